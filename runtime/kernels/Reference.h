//===- Reference.h - obviously-correct kernels for every mest op ----------===//
//
// The semantics of every layer, forward and backward, in plain loops over NCHW
// float tensors. They are the oracle the generated code is tested against and
// the fallback the runtime can always call. Kernels allocate nothing, keep no
// state, and overwrite (never accumulate into) their outputs unless a comment
// says otherwise.
//
//===----------------------------------------------------------------------===//
#ifndef MEST_RUNTIME_KERNELS_REFERENCE_H
#define MEST_RUNTIME_KERNELS_REFERENCE_H

#include "runtime/formats/CompressedWeights.h"

#include <cstdint>

namespace mest::rt {

/// Geometry of a 2-D convolution (a linear layer is N x C x 1 x 1 with a 1x1 kernel).
/// With G groups, filter o sees the FC() = C / G input channels of its group
/// o / (O / G), from channel (o / (O / G)) * FC() on (G = C = O: depthwise).
struct ConvGeom {
  int64_t N = 1, C = 1, H = 1, W = 1;  // input
  int64_t O = 1, KH = 1, KW = 1;        // output channels, kernel
  int64_t SH = 1, SW = 1, PH = 0, PW = 0;
  int64_t G = 1;                        // groups (dividing C and O)
  int64_t FC() const { return C / G; }  // input channels of one filter
  /// The input channel that channel c of filter o's weights reads.
  int64_t inChannel(int64_t o, int64_t c) const { return o / (O / G) * FC() + c; }
  int64_t OH() const { return (H + 2 * PH - KH) / SH + 1; }
  int64_t OW() const { return (W + 2 * PW - KW) / SW + 1; }
  int64_t inSize() const { return N * C * H * W; }
  int64_t outSize() const { return N * O * OH() * OW(); }
  WeightShape weightShape() const { return {O, FC(), KH, KW}; }
  static ConvGeom linear(int64_t n, int64_t in, int64_t out) {
    ConvGeom g;
    g.N = n, g.C = in, g.O = out;
    return g;
  }
};

// Convolution with dense weights [O, C / G, KH, KW] (the independent oracle).
void conv2dForwardDense(const ConvGeom &g, const float *in, const float *w, const float *bias,
                        float *out);
void conv2dBackwardDataDense(const ConvGeom &g, const float *dout, const float *w, float *din);
/// dbias may be null.
void conv2dBackwardWeightDense(const ConvGeom &g, const float *in, const float *dout, float *dw,
                               float *dbias);

// Convolution with compressed weights, any scheme. Backward-weight writes
// w.grads for the active weights only.
void conv2dForward(const ConvGeom &g, const float *in, const CompressedWeights &w,
                   const float *bias, float *out);
void conv2dBackwardData(const ConvGeom &g, const float *dout, const CompressedWeights &w,
                        float *din);
void conv2dBackwardWeight(const ConvGeom &g, const float *in, const float *dout,
                          CompressedWeights &w, float *dbias);

// Batch normalisation over channels of [N, C, HW].
void batchNormForwardTrain(int64_t N, int64_t C, int64_t HW, const float *in,
                           const float *gamma, const float *beta, double eps, double momentum,
                           float *runMean, float *runVar, float *out, float *saveMean,
                           float *saveInvStd);
void batchNormForwardEval(int64_t N, int64_t C, int64_t HW, const float *in, const float *gamma,
                          const float *beta, double eps, const float *runMean,
                          const float *runVar, float *out);
void batchNormBackward(int64_t N, int64_t C, int64_t HW, const float *in, const float *dout,
                       const float *gamma, const float *saveMean, const float *saveInvStd,
                       float *din, float *dgamma, float *dbeta);

/// The same for one channel c: the unit the runtime parallelises over.
void batchNormForwardTrainChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                  const float *gamma, const float *beta, double eps,
                                  double momentum, float *runMean, float *runVar, float *out,
                                  float *saveMean, float *saveInvStd);
void batchNormForwardEvalChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                                 const float *gamma, const float *beta, double eps,
                                 const float *runMean, const float *runVar, float *out);
void batchNormBackwardChannel(int64_t c, int64_t N, int64_t C, int64_t HW, const float *in,
                              const float *dout, const float *gamma, const float *saveMean,
                              const float *saveInvStd, float *din, float *dgamma, float *dbeta);

// Elementwise.
void reluForward(int64_t n, const float *in, float *out);
/// din = dout where out > 0, else 0.
void reluBackward(int64_t n, const float *out, const float *dout, float *din);
void addForward(int64_t n, const float *a, const float *b, float *out);

/// Pooling geometry: the window of a ConvGeom with O == C. argmax may be null.
void maxPool2dForward(const ConvGeom &g, const float *in, float *out, int32_t *argmax);
/// din is overwritten.
void maxPool2dBackward(const ConvGeom &g, const float *dout, const int32_t *argmax, float *din);
void avgPool2dForward(const ConvGeom &g, const float *in, float *out);
void avgPool2dBackward(const ConvGeom &g, const float *dout, float *din);
void globalAvgPoolForward(int64_t N, int64_t C, int64_t HW, const float *in, float *out);
void globalAvgPoolBackward(int64_t N, int64_t C, int64_t HW, const float *dout, float *din);

/// Softmax cross-entropy of logits [N, K]. Writes per-example loss, correctness
/// (arg-max, first on ties, equals the label) and margin (label logit minus the
/// largest other logit); returns the mean loss. Any output pointer may be null.
double softmaxCrossEntropyForward(int64_t N, int64_t K, const float *logits,
                                  const int32_t *labels, float *loss, uint8_t *correct,
                                  float *margin);
/// Gradient of the mean loss: (softmax - onehot) / N.
void softmaxCrossEntropyBackward(int64_t N, int64_t K, const float *logits,
                                 const int32_t *labels, float *dlogits);

/// SGD with momentum and weight decay, as torch.optim.SGD (no dampening, no
/// Nesterov): d = g + wd * w; m = mu * m + d; w -= lr * m. On packed arrays, so
/// only active weights are touched.
void sgdUpdate(int64_t n, float *w, const float *g, float *m, float lr, float mu, float wd);

} // namespace mest::rt

#endif // MEST_RUNTIME_KERNELS_REFERENCE_H
