//===- RuntimeCalls.cpp - calls from generated code into the runtime ------===//
#include "codegen/RuntimeCalls.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

Value mest::codegen::asPointer(OpBuilder &b, Location loc, Value mem) {
  auto type = cast<MemRefType>(mem.getType());
  auto ptrType = MemRefType::get({1}, type.getElementType());
  return b.create<memref::ReinterpretCastOp>(loc, ptrType, mem, /*offset=*/0,
                                             /*sizes=*/ArrayRef<int64_t>{1},
                                             /*strides=*/ArrayRef<int64_t>{1});
}

Value mest::codegen::callRuntime(OpBuilder &b, Location loc, ModuleOp module, StringRef name,
                                 ValueRange args, Type result) {
  SmallVector<Type> results;
  if (result) results.push_back(result);
  auto type = b.getFunctionType(args.getTypes(), results);
  auto decl = module.lookupSymbol<func::FuncOp>(name);
  if (!decl) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    decl = b.create<func::FuncOp>(loc, name, type);
    decl.setPrivate();
  }
  auto call = b.create<func::CallOp>(loc, decl, args);
  return result ? call.getResult(0) : Value();
}

void mest::codegen::callRuntime(OpBuilder &b, Location loc, ModuleOp module, StringRef name,
                                ValueRange args) {
  callRuntime(b, loc, module, name, args, Type());
}
