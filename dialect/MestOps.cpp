//===- MestOps.cpp - layer op verifiers -----------------------------------===//
#include "dialect/MestDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "runtime/formats/Scheme.h"

#include <cmath>

using namespace mlir;
using namespace mest;

/// `custom<TypeOr>(type($x), ref(type($y)), ",")`: $x's type is $y's
/// unless printed after a comma (the gradients of a compact activation are f32).
static ParseResult parseTypeOr(OpAsmParser &p, Type &type, Type otherwise, StringRef) {
  if (failed(p.parseOptionalComma())) {
    type = otherwise;
    return success();
  }
  return p.parseType(type);
}
static void printTypeOr(OpAsmPrinter &p, Operation *, Type type, Type otherwise, StringRef) {
  if (type != otherwise) p << ", " << type;
}

/// `custom<NormOperands>`: batch_norm_train's optional `, stats %s : type` and
/// `, residual %r : type`, each independent of the other.
static ParseResult parseNormOperands(OpAsmParser &p,
                                     std::optional<OpAsmParser::UnresolvedOperand> &stats,
                                     Type &statsType,
                                     std::optional<OpAsmParser::UnresolvedOperand> &residual,
                                     Type &residualType) {
  while (succeeded(p.parseOptionalComma())) {
    llvm::SMLoc at = p.getCurrentLocation();
    StringRef keyword;
    if (p.parseKeyword(&keyword)) return failure();
    if (keyword != "stats" && keyword != "residual")
      return p.emitError(at) << "expected 'stats' or 'residual', got '" << keyword << "'";
    const bool isStats = keyword == "stats";
    if ((isStats ? stats : residual).has_value())
      return p.emitError(at) << "'" << keyword << "' given twice";
    OpAsmParser::UnresolvedOperand value;
    if (p.parseOperand(value) || p.parseColonType(isStats ? statsType : residualType))
      return failure();
    (isStats ? stats : residual) = value;
  }
  return success();
}
static void printNormOperands(OpAsmPrinter &p, Operation *, Value stats, Type statsType,
                              Value residual, Type residualType) {
  if (stats) p << ", stats " << stats << " : " << statsType;
  if (residual) p << ", residual " << residual << " : " << residualType;
}

#define GET_OP_CLASSES
#include "dialect/MestOps.cpp.inc"

namespace {

/// Largest kernel, stride or padding entry: far beyond any image, small enough
/// that sizes computed from it cannot overflow.
constexpr int64_t kMaxWindow = int64_t(1) << 20;

/// Checks an [h, w] attribute: two entries, each > 0 (or >= 0 with allowZero),
/// at most kMaxWindow.
LogicalResult verifyPair(Operation *op, StringRef name, ArrayRef<int64_t> v, bool allowZero) {
  if (v.size() != 2)
    return op->emitOpError() << "'" << name << "' must be [h, w], got " << v.size()
                             << " values";
  for (int64_t x : v) {
    if (x < 0 || (x == 0 && !allowZero))
      return op->emitOpError() << "'" << name << "' must be " << (allowZero ? ">= 0" : "> 0")
                               << ", got [" << v[0] << ", " << v[1] << "]";
    if (x > kMaxWindow)
      return op->emitOpError() << "'" << name << "' must be at most " << kMaxWindow << ", got ["
                               << v[0] << ", " << v[1] << "]";
  }
  return success();
}

/// Checks that `type` is [N, C, expectH, expectW] after a window op, with a message
/// that states the expected shape.
LogicalResult verifyWindowOutput(Operation *op, RankedTensorType in, RankedTensorType out,
                                 int64_t channels, ArrayRef<int64_t> kernel,
                                 ArrayRef<int64_t> stride, ArrayRef<int64_t> padding,
                                 bool ceilMode) {
  int64_t expect[4] = {in.getDimSize(0), channels, 0, 0};
  for (int d = 0; d < 2; ++d) {
    int64_t size = in.getDimSize(2 + d);
    if (ShapedType::isDynamic(size))
      return op->emitOpError() << "needs static spatial sizes";
    if (size <= 0) return op->emitOpError() << "needs spatial sizes > 0, got " << in;
    int64_t padded = size + 2 * padding[d];
    if (padded < kernel[d])
      return op->emitOpError() << "kernel [" << kernel[0] << ", " << kernel[1]
                               << "] is larger than the padded input " << in;
    if (padding[d] >= kernel[d])
      return op->emitOpError() << "padding [" << padding[0] << ", " << padding[1]
                               << "] must be smaller than the kernel [" << kernel[0] << ", "
                               << kernel[1] << "]: outputs would see padding only";
    if (stride[d] > padded)
      return op->emitOpError() << "stride [" << stride[0] << ", " << stride[1]
                               << "] is larger than the padded input " << in;
    expect[2 + d] = (padded - kernel[d]) / stride[d] + 1;
    // Ceil mode (pools): one more output whose window runs past the end,
    // where it still starts inside the input or its leading padding.
    const int64_t ceil = (padded - kernel[d] + stride[d] - 1) / stride[d] + 1;
    if (ceilMode && out.getRank() == 4 && out.getDimSize(2 + d) == ceil &&
        (ceil - 1) * stride[d] < size + padding[d])
      expect[2 + d] = ceil;
  }
  if (out.getShape() != ArrayRef<int64_t>(expect))
    return op->emitOpError() << "result type " << out << " does not match the expected shape ["
                             << expect[0] << ", " << expect[1] << ", " << expect[2] << ", "
                             << expect[3] << "]";
  return success();
}

LogicalResult verifySchemeShape(Operation *op, SparsityAttr sp, int64_t O, int64_t I,
                                int64_t kh, int64_t kw);

/// Checks of a weight of shape [O, I, kh, kw] against its sparsity.
LogicalResult verifySparsityOnWeight(Operation *op, SparsityAttr sp, int64_t O, int64_t I,
                                     int64_t kh, int64_t kw) {
  if (I <= 0) return op->emitOpError() << "needs input channels > 0, got " << I;
  if (failed(verifySchemeShape(op, sp, O, I, kh, kw))) return failure();
  if (sp.getScheme() == Scheme::dense) return success();
  // The target must leave something to train.
  auto scheme = static_cast<rt::Scheme>(sp.getScheme());
  rt::WeightShape shape{O, I, kh, kw};
  if (rt::activeWeights(scheme, shape, sp.getTargetSparsity(), sp.getBlockRows()) <= 0)
    return op->emitOpError() << "keeps no weight: " << stringifyScheme(sp.getScheme())
                             << " sparsity " << shortestDecimal(sp.getTargetSparsity())
                             << " of [" << O << ", " << I << ", " << kh << ", " << kw
                             << "] rounds to 0 units; lower the target";
  return success();
}

/// Scheme-specific shape checks of a weight of shape [O, I, kh, kw].
LogicalResult verifySchemeShape(Operation *op, SparsityAttr sp, int64_t O, int64_t I,
                                int64_t kh, int64_t kw) {
  switch (sp.getScheme()) {
  case Scheme::pattern:
    if (kh != 3 || kw != 3)
      return op->emitOpError() << "pattern sparsity needs a 3x3 kernel, got " << kh << "x"
                               << kw;
    break;
  case Scheme::block:
    if (O % sp.getBlockRows() != 0)
      return op->emitOpError() << "block rows " << sp.getBlockRows()
                               << " do not divide the " << O << " output channels";
    if ((I * kh * kw) % sp.getBlockCols() != 0)
      return op->emitOpError() << "block columns " << sp.getBlockCols()
                               << " do not divide the " << I * kh * kw
                               << " weights of a filter";
    break;
  default: break;
  }
  return success();
}

} // namespace

//===----------------------------------------------------------------------===//
// conv2d
//===----------------------------------------------------------------------===//

SparsityAttr Conv2dOp::getSparsityOrDense() {
  return getSparsity() ? *getSparsity() : SparsityAttr::getDense(getContext());
}

int64_t Conv2dOp::getNumParameters() {
  return getOutChannels() * getFilterChannels() * getKernel()[0] * getKernel()[1] +
         (getBias() ? getOutChannels() : 0);
}

LogicalResult Conv2dOp::verify() {
  int64_t outChannels = static_cast<int64_t>(getOutChannels());
  if (outChannels <= 0) return emitOpError() << "out_channels must be > 0, got " << outChannels;
  if (failed(verifyPair(*this, "kernel", getKernel(), false)) ||
      failed(verifyPair(*this, "stride", getStride(), false)) ||
      failed(verifyPair(*this, "padding", getPadding(), true)))
    return failure();
  auto in = getInput().getType();
  if (!in.hasStaticShape()) return emitOpError() << "needs a static input shape, got " << in;
  if (failed(verifyWindowOutput(*this, in, getOutput().getType(), outChannels, getKernel(),
                                getStride(), getPadding(), /*ceilMode=*/false)))
    return failure();
  const int64_t groups = static_cast<int64_t>(getGroups());
  if (groups <= 0) return emitOpError() << "groups must be > 0, got " << groups;
  if (getInChannels() % groups != 0 || outChannels % groups != 0)
    return emitOpError() << "groups " << groups << " must divide the " << getInChannels()
                         << " input and the " << outChannels << " output channels";
  SparsityAttr sp = getSparsityOrDense();
  if (groups > 1 && sp.getScheme() != Scheme::dense && sp.getScheme() != Scheme::unstructured)
    return emitOpError() << "'" << stringifyScheme(sp.getScheme())
                         << "' sparsity does not apply to a grouped convolution (groups = "
                         << groups << "); it takes dense or unstructured";
  return verifySparsityOnWeight(*this, sp, outChannels, getFilterChannels(), getKernel()[0],
                                getKernel()[1]);
}

//===----------------------------------------------------------------------===//
// clip
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::verify() {
  const double lo = getMin().convertToDouble(), hi = getMax().convertToDouble();
  if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo <= hi) ||
      std::fabs(lo) > 3.0e38 || std::fabs(hi) > 3.0e38)
    return emitOpError() << "bounds must be finite floats with min <= max, got ["
                         << shortestDecimal(lo) << ", " << shortestDecimal(hi) << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// activation
//===----------------------------------------------------------------------===//

/// The two hard kinds take a finite alpha > 0 and a finite beta, the others neither.
static LogicalResult verifyActivationParams(Operation *op, Activation kind,
                                            std::optional<APFloat> alpha,
                                            std::optional<APFloat> beta) {
  const bool hard = kind == Activation::hard_sigmoid || kind == Activation::hard_swish;
  if (!hard) {
    if (alpha || beta)
      return op->emitOpError() << "'" << stringifyActivation(kind)
                               << "' takes no alpha or beta";
    return success();
  }
  if (!alpha || !beta)
    return op->emitOpError() << "'" << stringifyActivation(kind) << "' needs alpha and beta";
  const double a = alpha->convertToDouble(), c = beta->convertToDouble();
  if (!std::isfinite(a) || !std::isfinite(c) || !(a > 0) || std::fabs(a) > 3.0e38 ||
      std::fabs(c) > 3.0e38)
    return op->emitOpError() << "alpha must be a finite float > 0 and beta finite, got alpha "
                             << shortestDecimal(a) << ", beta " << shortestDecimal(c);
  return success();
}

LogicalResult ActivationOp::verify() {
  return verifyActivationParams(*this, getKind(), getAlpha(), getBeta());
}

LogicalResult ActivationGradOp::verify() {
  return verifyActivationParams(*this, getKind(), getAlpha(), getBeta());
}

//===----------------------------------------------------------------------===//
// dropout
//===----------------------------------------------------------------------===//

/// 0 <= ratio < 1; a static tensor of fewer than 2^31 elements (the stream
/// numbers elements with 32 bits); a dropout index the stream can salt with.
static LogicalResult verifyDropout(Operation *op, double ratio, std::optional<int64_t> index) {
  if (!(ratio >= 0.0 && ratio < 1.0))
    return op->emitOpError() << "ratio must be in [0, 1), got " << shortestDecimal(ratio);
  auto t = cast<ShapedType>(op->getOperand(0).getType());
  if (!t.hasStaticShape() || t.getNumElements() >= (int64_t(1) << 31))
    return op->emitOpError() << "needs a static tensor of fewer than 2^31 elements, got " << t;
  if (index && (*index < 0 || *index > 0xffff))
    return op->emitOpError() << "index must be in [0, 65535], got " << *index;
  return success();
}

LogicalResult DropoutOp::verify() {
  return verifyDropout(*this, getRatio().convertToDouble(), std::nullopt);
}

LogicalResult DropoutTrainOp::verify() {
  return verifyDropout(*this, getRatio().convertToDouble(), int64_t(getIndex()));
}

LogicalResult DropoutGradOp::verify() {
  return verifyDropout(*this, getRatio().convertToDouble(), int64_t(getIndex()));
}

LogicalResult ConcatOp::verify() {
  if (getInputs().empty()) return emitOpError() << "needs at least one input";
  auto out = cast<ShapedType>(getOutput().getType());
  int64_t channels = 0;
  for (Value v : getInputs()) {
    auto t = cast<ShapedType>(v.getType());
    if (t.getDimSize(0) != out.getDimSize(0) || t.getDimSize(2) != out.getDimSize(2) ||
        t.getDimSize(3) != out.getDimSize(3))
      return emitOpError() << "input " << t << " differs from the result " << out
                           << " in batch or plane size";
    channels += t.getDimSize(1);
  }
  if (channels != out.getDimSize(1))
    return emitOpError() << "result has " << out.getDimSize(1) << " channels, the inputs "
                         << channels;
  return success();
}

/// `part` is channels [offset, offset + its C) of `whole` (named `wholeName`
/// in the message), with the same batch and plane size: slice and pad channels.
static LogicalResult verifyChannelRange(Operation *op, ShapedType part, ShapedType whole,
                                        int64_t offset, StringRef wholeName) {
  if (part.getDimSize(0) != whole.getDimSize(0) || part.getDimSize(2) != whole.getDimSize(2) ||
      part.getDimSize(3) != whole.getDimSize(3))
    return op->emitOpError() << "result " << op->getResult(0).getType()
                             << " differs from the input " << op->getOperand(0).getType()
                             << " in batch or plane size";
  if (offset < 0 || offset + part.getDimSize(1) > whole.getDimSize(1))
    return op->emitOpError() << "channels [" << offset << ", " << offset + part.getDimSize(1)
                             << ") are not inside the " << wholeName << "'s "
                             << whole.getDimSize(1);
  return success();
}

LogicalResult SliceChannelsOp::verify() {
  return verifyChannelRange(*this, cast<ShapedType>(getOutput().getType()),
                            cast<ShapedType>(getInput().getType()),
                            static_cast<int64_t>(getOffset()), "input");
}

LogicalResult PadChannelsOp::verify() {
  return verifyChannelRange(*this, cast<ShapedType>(getInput().getType()),
                            cast<ShapedType>(getOutput().getType()),
                            static_cast<int64_t>(getOffset()), "result");
}

LogicalResult ShuffleChannelsOp::verify() {
  const int64_t groups = static_cast<int64_t>(getGroups());
  const int64_t C = cast<ShapedType>(getInput().getType()).getDimSize(1);
  if (groups < 1 || C % groups)
    return emitOpError() << "groups must be >= 1 and divide the " << C << " channels, got "
                         << groups;
  return success();
}

LogicalResult ScaleChannelsOp::verify() {
  auto x = cast<ShapedType>(getInput().getType()), s = cast<ShapedType>(getScale().getType());
  if (x.getDimSize(0) != s.getDimSize(0) || x.getDimSize(1) != s.getDimSize(1))
    return emitOpError() << "scale must be [N, C] = [" << x.getDimSize(0) << ", "
                         << x.getDimSize(1) << "] for the input, got [" << s.getDimSize(0)
                         << ", " << s.getDimSize(1) << "]";
  return success();
}

LogicalResult ScaleChannelsGradOp::verify() {
  auto x = cast<ShapedType>(getInput().getType()), s = cast<ShapedType>(getScaleGrad().getType());
  if (x.getDimSize(0) != s.getDimSize(0) || x.getDimSize(1) != s.getDimSize(1))
    return emitOpError() << "result must be [N, C] = [" << x.getDimSize(0) << ", "
                         << x.getDimSize(1) << "]";
  return success();
}

//===----------------------------------------------------------------------===//
// linear
//===----------------------------------------------------------------------===//

SparsityAttr LinearOp::getSparsityOrDense() {
  return getSparsity() ? *getSparsity() : SparsityAttr::getDense(getContext());
}

int64_t LinearOp::getNumParameters() {
  return getOutFeatures() * getInput().getType().getDimSize(1) +
         (getBias() ? getOutFeatures() : 0);
}

LogicalResult LinearOp::verify() {
  int64_t outFeatures = static_cast<int64_t>(getOutFeatures());
  if (outFeatures <= 0) return emitOpError() << "out_features must be > 0, got " << outFeatures;
  auto in = getInput().getType(), out = getOutput().getType();
  if (!in.hasStaticShape()) return emitOpError() << "needs a static input shape, got " << in;
  if (out.getShape() != ArrayRef<int64_t>{in.getDimSize(0), outFeatures})
    return emitOpError() << "result type " << out << " does not match the expected shape ["
                         << in.getDimSize(0) << ", " << outFeatures << "]";
  SparsityAttr sp = getSparsityOrDense();
  if (sp.getScheme() == Scheme::pattern || sp.getScheme() == Scheme::channel)
    return emitOpError() << "'" << stringifyScheme(sp.getScheme())
                         << "' sparsity is for convolutions; a linear layer takes dense, "
                            "unstructured or block";
  return verifySparsityOnWeight(*this, sp, outFeatures, in.getDimSize(1), 1, 1);
}

//===----------------------------------------------------------------------===//
// batch_norm
//===----------------------------------------------------------------------===//

int64_t BatchNormOp::getNumParameters() { return 2 * getInput().getType().getDimSize(1); }

LogicalResult BatchNormOp::verify() {
  if (!getInput().getType().hasStaticShape())
    return emitOpError() << "needs a static input shape";
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be > 0, got " << shortestDecimal(getEps().convertToDouble());
  double m = getMomentum().convertToDouble();
  if (!(m >= 0.0 && m <= 1.0))
    return emitOpError() << "momentum must be in [0, 1], got " << shortestDecimal(m);
  return success();
}

//===----------------------------------------------------------------------===//
// pooling, flatten, loss
//===----------------------------------------------------------------------===//

template <typename PoolOp> static LogicalResult verifyPool(PoolOp op) {
  if (failed(verifyPair(op, "kernel", op.getKernel(), false)) ||
      failed(verifyPair(op, "stride", op.getStrideOrKernel(), false)) ||
      failed(verifyPair(op, "padding", op.getPadding(), true)))
    return failure();
  for (int d = 0; d < 2; ++d)
    if (2 * op.getPadding()[d] > op.getKernel()[d])
      return op.emitOpError() << "padding must be at most half the kernel";
  auto in = op.getInput().getType();
  return verifyWindowOutput(op, in, op.getOutput().getType(), in.getDimSize(1), op.getKernel(),
                            op.getStrideOrKernel(), op.getPadding(), /*ceilMode=*/true);
}

LogicalResult MaxPool2dOp::verify() { return verifyPool(*this); }
LogicalResult AvgPool2dOp::verify() { return verifyPool(*this); }

LogicalResult GlobalAvgPool2dOp::verify() {
  auto in = getInput().getType(), out = getOutput().getType();
  if (out.getShape() != ArrayRef<int64_t>{in.getDimSize(0), in.getDimSize(1)})
    return emitOpError() << "result type " << out << " must be [N, C] of the input " << in;
  return success();
}

LogicalResult FlattenOp::verify() {
  auto in = getInput().getType(), out = getOutput().getType();
  if (!in.hasStaticShape()) return emitOpError() << "needs a static input shape";
  int64_t features = in.getDimSize(1) * in.getDimSize(2) * in.getDimSize(3);
  if (out.getShape() != ArrayRef<int64_t>{in.getDimSize(0), features})
    return emitOpError() << "result type " << out << " must be [" << in.getDimSize(0) << ", "
                         << features << "]";
  return success();
}

LogicalResult SoftmaxCrossEntropyOp::verify() {
  int64_t n = getLogits().getType().getDimSize(0);
  for (Type t : {getLabels().getType(), getLoss().getType(), getCorrect().getType(),
                 getMargin().getType()})
    if (cast<RankedTensorType>(t).getDimSize(0) != n)
      return emitOpError() << "labels, loss, correctness and margin must have the batch size " << n
                           << " of the logits, got " << t;
  return success();
}

LogicalResult ReshapeOp::verify() {
  auto in = cast<ShapedType>(getInput().getType()), out = cast<ShapedType>(getOutput().getType());
  if (!in.hasStaticShape() || !out.hasStaticShape() ||
      in.getNumElements() != out.getNumElements())
    return emitOpError() << "needs static shapes with the same number of elements, got " << in
                         << " and " << out;
  return success();
}

//===----------------------------------------------------------------------===//
// Operands and results that mest-form-kernels attaches
//===----------------------------------------------------------------------===//

namespace {
/// Per-plane statistics of `activation` ([N, C, H, W]) are [N, C, 2].
LogicalResult verifyStats(Operation *op, Type stats, Type activation) {
  auto a = cast<RankedTensorType>(activation);
  auto s = cast<RankedTensorType>(stats);
  if (a.getRank() != 4 ||
      s.getShape() != ArrayRef<int64_t>{a.getDimSize(0), a.getDimSize(1), 2})
    return op->emitOpError() << "statistics " << s << " must be [N, C, 2] of the 4-D activation "
                             << a;
  return success();
}

/// Checks a per-channel (scale, shift) tensor: [C, 2] for an input [N, C, ...].
LogicalResult verifyAffine(Operation *op, Type affine, Type input) {
  auto a = cast<ShapedType>(affine);
  int64_t C = cast<ShapedType>(input).getDimSize(1);
  if (a.getDimSize(0) != C || a.getDimSize(1) != 2)
    return op->emitOpError() << "affine " << affine << " must be [" << C
                             << ", 2]: (scale, shift) per channel of " << input;
  return success();
}

/// Same shape (the element types may differ: f32 or a compact 16-bit storage).
bool sameShape(Type a, Type b) {
  return cast<ShapedType>(a).getShape() == cast<ShapedType>(b).getShape();
}

} // namespace

LogicalResult BatchNormTrainOp::verify() {
  Type in = getInput().getType();
  if (!sameShape(getOutput().getType(), in))
    return emitOpError() << "result type " << getOutput().getType()
                         << " differs in shape from the input's " << in;
  if (getResidual() && !sameShape(getResidual().getType(), in))
    return emitOpError() << "residual " << getResidual().getType()
                         << " differs in shape from the input " << in;
  if (getAffine()) {
    if (failed(verifyAffine(*this, getAffine().getType(), in))) return failure();
  }
  if (getStats()) return verifyStats(*this, getStats().getType(), in);
  return success();
}

/// Checks a packed mask: one bit per element of `values`.
static LogicalResult verifyMask(Operation *op, Type mask, Type values) {
  int64_t n = cast<ShapedType>(values).getNumElements();
  int64_t bytes = cast<ShapedType>(mask).getNumElements();
  if (n % 8 != 0 || bytes * 8 != n)
    return op->emitOpError() << "mask " << mask << " must hold one bit per element of " << values
                             << " (" << n << " elements, a multiple of 8)";
  return success();
}

LogicalResult ReluMaskOp::verify() {
  return verifyMask(*this, getMask().getType(), getOutput().getType());
}

LogicalResult ReluMaskGradOp::verify() {
  return verifyMask(*this, getMask().getType(), getOutputGrad().getType());
}

LogicalResult BatchNormApplyOp::verify() {
  Type in = getInput().getType();
  if (!sameShape(getOutput().getType(), in))
    return emitOpError() << "result type " << getOutput().getType()
                         << " differs in shape from the input's " << in;
  if (getResidual() && !sameShape(getResidual().getType(), in))
    return emitOpError() << "residual " << getResidual().getType()
                         << " differs in shape from the input " << in;
  return verifyAffine(*this, getAffine().getType(), in);
}

LogicalResult BatchNormGradOp::verify() {
  if (getReluOutput() && !sameShape(getReluOutput().getType(), getInput().getType()))
    return emitOpError() << "ReLU output " << getReluOutput().getType()
                         << " differs in shape from the input " << getInput().getType();
  return success();
}

LogicalResult ForwardOp::verify() {
  if (getStats()) return verifyStats(*this, getStats().getType(), getOutput().getType());
  return success();
}
