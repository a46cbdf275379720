//===- MestDialect.cpp - dialect registration and model verification -----===//
#include "dialect/MestDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mest;

#include "dialect/MestDialect.cpp.inc"
#include "dialect/MestEnums.cpp.inc"
#include "dialect/MestOpInterfaces.cpp.inc"

void MestDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialect/MestOps.cpp.inc"
      >();
  registerAttributes();
}

namespace {

/// Largest tensor a model may hold: 1 TiB, far beyond any arena, small enough
/// that byte counts computed from it do not overflow.
constexpr int64_t kMaxTensorBytes = int64_t(1) << 40;

/// A model value must be a static tensor with sizes > 0 and a sane byte count.
LogicalResult verifyModelValue(Value v, Operation *at) {
  auto t = dyn_cast<RankedTensorType>(v.getType());
  if (!t || !t.hasStaticShape())
    return at->emitOpError() << "produces or takes " << v.getType()
                             << ": a mest model computes on static tensors only";
  if (!t.getElementType().isF32())
    return at->emitOpError() << "produces or takes " << t
                             << ": a mest model computes in f32 (16-bit storage of saved "
                                "activations is a compiler option: mestc --activation-storage)";
  int64_t bytes = 4;
  for (int64_t d : t.getShape()) {
    if (d <= 0)
      return at->emitOpError() << "has an empty tensor " << t << ": every size must be > 0";
    if (bytes > kMaxTensorBytes / d)
      return at->emitOpError() << "has a tensor " << t << " of more than " << kMaxTensorBytes
                               << " bytes";
    bytes *= d;
  }
  return success();
}

} // namespace

/// Discardable attributes of the dialect: `mest.model` marks a model; the
/// planning passes add the others. Each is checked for its kind and place.
LogicalResult MestDialect::verifyOperationAttribute(Operation *op, NamedAttribute attr) {
  StringRef name = attr.getName().getValue();
  auto expectInt = [&]() -> LogicalResult {
    auto v = dyn_cast<IntegerAttr>(attr.getValue());
    if (!v || v.getInt() < 0)
      return op->emitError() << "'" << name << "' must be a non-negative integer";
    return success();
  };
  if (name == getStateOffsetAttrName()) {
    if (!isa<LayerOpInterface, BatchNormTrainOp, BatchNormAffineOp>(op))
      return op->emitError() << "'" << name << "' applies to layers with parameters only";
    return expectInt();
  }
  if (name == getStateBytesAttrName() || name == getArenaBytesAttrName() ||
      name == getScratchBytesAttrName() || name == getDropoutStateOffsetAttrName()) {
    if (!isa<func::FuncOp>(op)) return op->emitError() << "'" << name << "' applies to functions";
    return expectInt();
  }
  if (name == getArenaOffsetsAttrName()) {
    auto offsets = dyn_cast<DenseI64ArrayAttr>(attr.getValue());
    if (!offsets || offsets.size() != static_cast<int64_t>(op->getNumResults()))
      return op->emitError() << "'" << name << "' needs one offset per result";
    return success();
  }
  if (name == getRegroupAttrName()) {
    auto policy = dyn_cast<StringAttr>(attr.getValue());
    if (!policy || !llvm::is_contained({"none", "balance-nnz", "pattern-mix"}, policy.getValue()))
      return op->emitError() << "'" << name << "' must be \"none\", \"balance-nnz\" or \"pattern-mix\"";
    return success();
  }
  if (name == getTargetAttrName()) {
    if (!isa<ModuleOp>(op) || !isa<TargetAttr>(attr.getValue()))
      return op->emitError() << "'" << name << "' is a #mest.target<...> on the module";
    return success();
  }
  if (name == getKernelConfigAttrName()) {
    auto config = dyn_cast<KernelConfigAttr>(attr.getValue());
    if (!isa<Conv2dOp, LinearOp>(op) || !config)
      return op->emitError() << "'" << name << "' is a #mest.kernel<...> on conv2d or linear";
    auto padded = [](KernelVariant v) { return v == KernelVariant::padded; };
    const SparsityAttr sparsity = isa<Conv2dOp>(op) ? cast<Conv2dOp>(op).getSparsityOrDense()
                                                    : cast<LinearOp>(op).getSparsityOrDense();
    const Scheme scheme = sparsity.getScheme();
    const int64_t filters = cast<ShapedType>(op->getResult(0).getType()).getDimSize(1);
    if (auto conv = dyn_cast<Conv2dOp>(op)) {
      ArrayRef<int64_t> s = conv.getStride();
      bool anyPadded = padded(config.getForward()) || padded(config.getBackwardWeight()) ||
                       padded(config.getBackwardData());
      if (anyPadded && (s[0] != s[1] || s[0] > 2))
        return op->emitError() << "padded kernels need equal strides of 1 or 2, got [" << s[0]
                               << ", " << s[1] << "]";
      if (anyPadded && conv.getGroups() > 1)
        return op->emitError() << "a grouped convolution (groups = " << conv.getGroups()
                               << ") runs direct kernels only";
    }
    if (padded(config.getForward()) != padded(config.getBackwardWeight()))
      return op->emitError() << "forward and backward_weight share the padded input copy: "
                                "both padded or both direct";
    if (config.getImageGroups() > 1) {
      if (!padded(config.getBackwardWeight()))
        return op->emitError() << "image_groups = " << config.getImageGroups()
                               << " needs a padded backward_weight";
      int64_t batch = cast<ShapedType>(op->getOperand(0).getType()).getDimSize(0);
      if (batch % config.getImageGroups() != 0)
        return op->emitError() << "image_groups = " << config.getImageGroups()
                               << " must divide the batch of " << batch;
    }
    if (config.getTileFilters() > 1) {
      if (scheme == Scheme::unstructured || scheme == Scheme::pattern)
        return op->emitError() << "tile_filters = " << config.getTileFilters()
                               << ": the filters of " << stringifyScheme(scheme)
                               << " weights do not share input positions; it must be 1";
      if (scheme == Scheme::block && config.getTileFilters() != sparsity.getBlockRows())
        return op->emitError() << "tile_filters = " << config.getTileFilters()
                               << " must be the block rows (" << sparsity.getBlockRows() << ")";
      if (filters % config.getTileFilters() != 0)
        return op->emitError() << "tile_filters = " << config.getTileFilters()
                               << " must divide the " << filters << " filters";
    }
    if (config.getWeightTileFilters() > 1) {
      if (scheme != Scheme::dense && scheme != Scheme::channel)
        return op->emitError() << "weight_tile_filters = " << config.getWeightTileFilters()
                               << ": only dense and channel filters share every weight "
                                  "position; it must be 1";
      if (!padded(config.getBackwardWeight()))
        return op->emitError() << "weight_tile_filters = " << config.getWeightTileFilters()
                               << " needs a padded backward_weight";
      if (filters % config.getWeightTileFilters() != 0)
        return op->emitError() << "weight_tile_filters = " << config.getWeightTileFilters()
                               << " must divide the " << filters << " filters";
    }
    if (config.getDataTileChannels() > 1) {
      auto conv = dyn_cast<Conv2dOp>(op);
      if (scheme != Scheme::dense && scheme != Scheme::channel)
        return op->emitError() << "data_tile_channels = " << config.getDataTileChannels()
                               << ": only dense and channel weights share output-gradient "
                                  "positions across input channels; it must be 1";
      if (!conv || !padded(config.getBackwardData()) || conv.getStride()[0] != 1)
        return op->emitError() << "data_tile_channels = " << config.getDataTileChannels()
                               << " needs a padded stride-1 backward_data";
      if (scheme == Scheme::dense && conv.getInChannels() % config.getDataTileChannels() != 0)
        return op->emitError() << "data_tile_channels = " << config.getDataTileChannels()
                               << " must divide the " << conv.getInChannels() << " input channels";
    }
    if (!padded(config.getForward()) && !padded(config.getBackwardData()) &&
        config.getScratchBytes() != 0)
      return op->emitError() << "direct kernels use no scratch, got scratch_bytes = "
                             << config.getScratchBytes();
    if (auto module = op->getParentOfType<ModuleOp>())
      if (auto target = module->getAttrOfType<TargetAttr>(getTargetAttrName())) {
        // A vector wider than the registers is legal (LLVM splits it): tests use it.
        if (config.getScratchBytes() > target.getStackBytes())
          return op->emitError() << "scratch_bytes " << config.getScratchBytes()
                                 << " exceed the target's stack budget of "
                                 << target.getStackBytes();
      }
    return success();
  }
  if (name == getSyncReplicasAttrName()) {
    if (!isa<UnitAttr>(attr.getValue()) || !op->hasAttr(getGradStepAttrName()))
      return op->emitError() << "'" << name << "' is a unit attribute of a grad step";
    return success();
  }
  if (name == getTrainStepAttrName() || name == getEvalStepAttrName() ||
      name == getInferStepAttrName() || name == getGradStepAttrName() ||
      name == getUpdateStepAttrName()) {
    auto modelRef = dyn_cast<FlatSymbolRefAttr>(attr.getValue());
    if (!isa<func::FuncOp>(op) || !modelRef)
      return op->emitError() << "'" << name << "' names the model a step function was made from";
    // Every training op's @layer must be a layer of that model.
    auto module = op->getParentOfType<ModuleOp>();
    auto model = module ? module.lookupSymbol<func::FuncOp>(modelRef.getAttr()) : nullptr;
    if (!model)
      return op->emitError() << "'" << name << "' names the model " << modelRef
                             << ", which this module does not have";
    llvm::DenseMap<StringAttr, Operation *> layers;
    model.walk([&](LayerOpInterface l) {
      layers[l->getAttrOfType<StringAttr>("sym_name")] = l.getOperation();
    });
    WalkResult refs = op->walk([&](Operation *inner) {
      auto ref = inner->getAttrOfType<FlatSymbolRefAttr>("layer");
      if (!ref) return WalkResult::advance();
      Operation *layer = layers.lookup(ref.getAttr());
      if (!layer) {
        inner->emitOpError() << "names layer " << ref << ", which model " << modelRef
                             << " does not have";
        return WalkResult::interrupt();
      }
      // A forward kernel runs its layer on the layer's own shapes (its
      // activations may be stored in 16 bits: mest-compact-activations).
      if (auto fwd = dyn_cast<ForwardOp>(inner)) {
        auto shape = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
        if (!isa<Conv2dOp, LinearOp>(layer) || shape(fwd.getInput()) != shape(layer->getOperand(0)) ||
            shape(fwd.getOutput()) != shape(layer->getResult(0))) {
          inner->emitOpError() << "runs layer " << ref << " on " << fwd.getInput().getType()
                               << " -> " << fwd.getOutput().getType()
                               << ", but that layer is '" << layer->getName() << "' on "
                               << layer->getOperand(0).getType() << " -> "
                               << layer->getResult(0).getType();
          return WalkResult::interrupt();
        }
      }
      return WalkResult::advance();
    });
    return failure(refs.wasInterrupted());
  }
  if (name != getModelAttrName())
    return op->emitError() << "unknown mest attribute '" << name << "'";
  auto func = dyn_cast<func::FuncOp>(op);
  if (!func)
    return op->emitError() << "'" << getModelAttrName() << "' applies to func.func only";
  if (!isa<UnitAttr>(attr.getValue()))
    return op->emitError() << "'" << getModelAttrName() << "' must be a unit attribute";
  FunctionType type = func.getFunctionType();
  if (type.getNumInputs() != 1 || type.getNumResults() != 1)
    return op->emitError() << "a mest model takes one input batch and returns one "
                              "logits tensor, got "
                           << type.getNumInputs() << " inputs and " << type.getNumResults()
                           << " results";
  auto in = dyn_cast<RankedTensorType>(type.getInput(0));
  auto out = dyn_cast<RankedTensorType>(type.getResult(0));
  if (!in || !out || !in.hasStaticShape() || !out.hasStaticShape() || out.getRank() != 2 ||
      in.getDimSize(0) != out.getDimSize(0))
    return op->emitError() << "a mest model maps a static [N, ...] batch to [N, classes] "
                              "logits, got "
                           << type;
  // Only mest ops on static, non-empty tensors: everything after the verifier
  // (memory planning, kernel lowering) relies on it.
  for (BlockArgument arg : func.getArguments())
    if (failed(verifyModelValue(arg, op))) return failure();
  WalkResult values = func.walk([&](Operation *inner) {
    if (inner == op) return WalkResult::advance();
    if (!isa<MestDialect>(inner->getDialect()) && !isa<func::ReturnOp>(inner)) {
      inner->emitOpError() << "is not a mest op: a model holds mest ops only";
      return WalkResult::interrupt();
    }
    for (Value v : inner->getResults())
      if (failed(verifyModelValue(v, inner))) return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (values.wasInterrupted()) return failure();
  llvm::DenseMap<StringAttr, Operation *> seen;
  WalkResult result = func.walk([&](LayerOpInterface layer) {
    auto name = layer->getAttrOfType<StringAttr>("sym_name");
    auto [it, inserted] = seen.try_emplace(name, layer.getOperation());
    if (inserted) return WalkResult::advance();
    InFlightDiagnostic diag = layer->emitOpError() << "layer name @" << name.getValue()
                                                   << " is already used in this model";
    diag.attachNote(it->second->getLoc()) << "first use here";
    return WalkResult::interrupt();
  });
  return failure(result.wasInterrupted());
}

FlatSymbolRefAttr MestDialect::getStepModel(Operation *op) {
  for (StringRef name : {getTrainStepAttrName(), getEvalStepAttrName(), getInferStepAttrName(),
                         getGradStepAttrName(), getUpdateStepAttrName()})
    if (auto ref = op->getAttrOfType<FlatSymbolRefAttr>(name)) return ref;
  return {};
}

bool MestDialect::isTrainingStep(Operation *op) {
  return op->hasAttr(getTrainStepAttrName()) || op->hasAttr(getGradStepAttrName());
}
