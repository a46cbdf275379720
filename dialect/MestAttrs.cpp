//===- MestAttrs.cpp - #mest.sparsity syntax and verification -------------===//
#include "dialect/MestDialect.h"

#include "runtime/formats/Patterns.h"
#include "runtime/formats/Scheme.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/STLExtras.h"

#include <charconv>
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mest;

#define GET_ATTRDEF_CLASSES
#include "dialect/MestAttrs.cpp.inc"

void MestDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialect/MestAttrs.cpp.inc"
      >();
}

SparsityAttr SparsityAttr::get(MLIRContext *ctx, Scheme scheme, double target, double capacity,
                               int64_t blockRows, int64_t blockCols,
                               ArrayRef<int64_t> patterns) {
  return Base::get(ctx, scheme, APFloat(target), APFloat(capacity), blockRows, blockCols,
                   patterns);
}

SparsityAttr SparsityAttr::getChecked(function_ref<InFlightDiagnostic()> emitError,
                                      MLIRContext *ctx, Scheme scheme, double target,
                                      double capacity, int64_t blockRows, int64_t blockCols,
                                      ArrayRef<int64_t> patterns) {
  return Base::getChecked(emitError, ctx, scheme, APFloat(target), APFloat(capacity),
                          blockRows, blockCols, patterns);
}

SparsityAttr SparsityAttr::getDense(MLIRContext *ctx) { return get(ctx, Scheme::dense, 0.0, 0.0); }

SmallVector<int64_t> SparsityAttr::getPatternTaps() const {
  if (!getPatterns().empty()) return llvm::to_vector(getPatterns());
  SmallVector<int64_t> taps;
  for (const auto &p : rt::kDefaultPatterns) taps.append(std::begin(p), std::end(p));
  return taps;
}

// Syntax: <scheme [, target = F] [, capacity = F] [, block = [R, C]]
//          [, patterns = [[t, t, t, t], ...]]>
Attribute SparsityAttr::parse(AsmParser &parser, Type) {
  if (parser.parseLess()) return {};
  SMLoc schemeLoc = parser.getCurrentLocation();
  StringRef keyword;
  if (parser.parseKeyword(&keyword)) return {};
  std::optional<Scheme> scheme = symbolizeScheme(keyword);
  if (!scheme) {
    parser.emitError(schemeLoc) << "unknown sparsity scheme '" << keyword
                                << "', expected dense, unstructured, channel, block or pattern";
    return {};
  }
  double target = 0.0;
  std::optional<double> capacity;
  int64_t blockRows = 4, blockCols = 1;
  SmallVector<int64_t> patterns;
  while (succeeded(parser.parseOptionalComma())) {
    SMLoc keyLoc = parser.getCurrentLocation();
    StringRef key;
    if (parser.parseKeyword(&key) || parser.parseEqual()) return {};
    if (key == "target") {
      if (parser.parseFloat(target)) return {};
    } else if (key == "capacity") {
      double c;
      if (parser.parseFloat(c)) return {};
      capacity = c;
    } else if (key == "block") {
      if (parser.parseLSquare() || parser.parseInteger(blockRows) || parser.parseComma() ||
          parser.parseInteger(blockCols) || parser.parseRSquare())
        return {};
    } else if (key == "patterns") {
      auto parseOne = [&]() -> ParseResult {
        return parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, [&]() {
          int64_t tap;
          if (parser.parseInteger(tap)) return failure();
          patterns.push_back(tap);
          return success();
        });
      };
      if (parser.parseCommaSeparatedList(AsmParser::Delimiter::Square, parseOne)) return {};
    } else {
      parser.emitError(keyLoc) << "unknown sparsity parameter '" << key
                               << "', expected target, capacity, block or patterns";
      return {};
    }
  }
  if (parser.parseGreater()) return {};
  return parser.getChecked<SparsityAttr>(parser.getContext(), *scheme, APFloat(target),
                                         APFloat(capacity.value_or(target)), blockRows,
                                         blockCols, patterns);
}

std::string mest::shortestDecimal(double v) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), v);
  std::string text(buf, res.ptr);
  if (text.find_first_of(".e") == std::string::npos) text += ".0";
  return text;
}

void SparsityAttr::print(AsmPrinter &printer) const {
  printer << "<" << stringifyScheme(getScheme());
  if (getTargetSparsity() != 0.0) printer << ", target = " << shortestDecimal(getTargetSparsity());
  if (getCapacitySparsity() != getTargetSparsity())
    printer << ", capacity = " << shortestDecimal(getCapacitySparsity());
  if (getScheme() == Scheme::block && (getBlockRows() != 4 || getBlockCols() != 1))
    printer << ", block = [" << getBlockRows() << ", " << getBlockCols() << "]";
  if (!getPatterns().empty()) {
    printer << ", patterns = [";
    ArrayRef<int64_t> taps = getPatterns();
    for (size_t p = 0; p < taps.size(); p += rt::kPatternTaps) {
      if (p) printer << ", ";
      printer << "[";
      llvm::interleaveComma(taps.slice(p, rt::kPatternTaps), printer);
      printer << "]";
    }
    printer << "]";
  }
  printer << ">";
}

LogicalResult SparsityAttr::verify(function_ref<InFlightDiagnostic()> emitError, Scheme scheme,
                                   APFloat targetF, APFloat capacityF, int64_t blockRows,
                                   int64_t blockCols, ArrayRef<int64_t> patterns) {
  double target = targetF.convertToDouble(), capacity = capacityF.convertToDouble();
  auto inUnit = [](double r) { return r >= 0.0 && r < 1.0; };
  if (!inUnit(target))
    return emitError() << "target sparsity " << shortestDecimal(target) << " is outside [0, 1)";
  if (!inUnit(capacity))
    return emitError() << "capacity " << shortestDecimal(capacity) << " is outside [0, 1)";
  if (capacity > target)
    return emitError() << "capacity " << shortestDecimal(capacity)
                       << " is sparser than the target " << shortestDecimal(target)
                       << ": storage must hold at least the target density";
  if (scheme == Scheme::dense && (target != 0.0 || capacity != 0.0))
    return emitError() << "a dense layer has no target or capacity";
  if (blockRows <= 0 || blockCols <= 0)
    return emitError() << "block shape [" << blockRows << ", " << blockCols
                       << "] must be positive";
  if (scheme != Scheme::block && (blockRows != 4 || blockCols != 1))
    return emitError() << "'block' applies to the block scheme only";
  if (scheme != Scheme::pattern && !patterns.empty())
    return emitError() << "'patterns' applies to the pattern scheme only";
  if (scheme == Scheme::pattern) {
    if (patterns.size() % rt::kPatternTaps != 0)
      return emitError() << "every pattern keeps exactly " << rt::kPatternTaps << " taps";
    if (patterns.size() / rt::kPatternTaps > rt::kMaxPatterns)
      return emitError() << "at most " << rt::kMaxPatterns << " patterns are supported";
    for (size_t p = 0; p < patterns.size(); p += rt::kPatternTaps) {
      unsigned mask = 0;
      for (int64_t tap : patterns.slice(p, rt::kPatternTaps)) {
        if (tap < 0 || tap > 8)
          return emitError() << "pattern tap " << tap
                             << " is not in a 3x3 kernel (taps are row * 3 + col, 0..8)";
        if (mask & (1u << tap))
          return emitError() << "pattern " << p / rt::kPatternTaps << " repeats tap " << tap;
        mask |= 1u << tap;
      }
    }
    // A kept kernel holds 4 of 9 weights: the scheme cannot be denser than 4/9.
    double minSparsity = 1.0 - double(rt::kPatternTaps) / 9.0;
    if (capacity < minSparsity - 1e-12)
      return emitError() << "pattern sparsity cannot be below " << shortestDecimal(minSparsity)
                         << " (4 of 9 taps per kernel), capacity is "
                         << shortestDecimal(capacity);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// target and kernel configuration
//===----------------------------------------------------------------------===//

LogicalResult TargetAttr::verify(function_ref<InFlightDiagnostic()> emitError, StringRef isa,
                                 int64_t vectorBits, int64_t vectorRegisters, int64_t l1Bytes,
                                 int64_t l2Bytes, int64_t stackBytes) {
  if (!llvm::is_contained({"avx2", "avx512", "neon"}, isa))
    return emitError() << "unknown ISA '" << isa << "': expected avx2, avx512 or neon";
  if (!llvm::is_contained({128, 256, 512}, vectorBits))
    return emitError() << "vector_bits must be 128, 256 or 512, got " << vectorBits;
  if (vectorRegisters < 8 || vectorRegisters > 64)
    return emitError() << "vector_registers must be in [8, 64], got " << vectorRegisters;
  if (l1Bytes <= 0 || l2Bytes <= 0 || stackBytes < 0)
    return emitError() << "cache sizes must be > 0 and the stack budget >= 0";
  return success();
}

TargetAttr TargetAttr::forIsa(MLIRContext *ctx, StringRef isa) {
  // libomp gives worker threads 4 MiB stacks: kernels keep well inside them.
  constexpr int64_t kStack = 3 << 19;
  if (isa == "neon") return get(ctx, "neon", 128, 32, 65536, 524288, kStack);
  if (isa == "avx512") return get(ctx, "avx512", 512, 32, 32768, 1048576, kStack);
  return get(ctx, "avx2", 256, 16, 32768, 524288, kStack);
}

LogicalResult KernelConfigAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                                       KernelVariant, KernelVariant, KernelVariant, LoopOrder,
                                       int64_t vectorWidth, int64_t registers,
                                       int64_t tileFilters, int64_t tileVectors,
                                       int64_t dataTileChannels, int64_t dataTileVectors,
                                       int64_t gradientRegisters, int64_t weightTileFilters,
                                       int64_t scratchBytes, int64_t imageGroups) {
  if (!llvm::is_contained({4, 8, 16}, vectorWidth))
    return emitError() << "vector_width must be 4, 8 or 16, got " << vectorWidth;
  if (registers < 1 || gradientRegisters < 1)
    return emitError() << "registers and gradient_registers must be >= 1";
  if (tileFilters < 1 || tileVectors < 1 || tileFilters * tileVectors > registers)
    return emitError() << "the forward tile of " << tileFilters << " filters x " << tileVectors
                       << " vectors must be >= 1 x 1 and hold at most registers = " << registers
                       << " accumulators";
  if (dataTileChannels < 1 || dataTileVectors < 1 ||
      dataTileChannels * dataTileVectors > registers)
    return emitError() << "the backward-data tile of " << dataTileChannels << " channels x "
                       << dataTileVectors << " vectors must be >= 1 x 1 and hold at most "
                       << "registers = " << registers << " accumulators";
  if (weightTileFilters < 1 || weightTileFilters > gradientRegisters)
    return emitError() << "weight_tile_filters = " << weightTileFilters
                       << " must be >= 1 and share gradient_registers = " << gradientRegisters
                       << " (at least one vector each)";
  if (scratchBytes < 0) return emitError() << "scratch_bytes must be >= 0";
  if (imageGroups < 1) return emitError() << "image_groups must be >= 1, got " << imageGroups;
  return success();
}
