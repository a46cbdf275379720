// oneDNN 2.6 dense 3x3 convolutions on the ResNet-32 (CIFAR) shapes at batch 64,
// widths 16 and 32 (the MEST paper's),
// forward, backward-data and backward-weights, each in the layouts oneDNN picks
// itself (format "any": its fastest). One JSON object per shape.
#include <dnnl.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

namespace {

template <typename Fn> double medianMs(Fn &&fn, int reps) {
  fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

memory filled(const memory::desc &d, engine &eng) {
  memory m(d, eng);
  float *p = static_cast<float *>(m.get_data_handle());
  for (size_t i = 0; i < d.get_size() / sizeof(float); ++i) p[i] = float(std::rand() % 1000) / 1000.0f - 0.5f;
  return m;
}

} // namespace

int main(int argc, char **argv) {
  int reps = argc > 1 ? std::atoi(argv[1]) : 20;
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  struct Shape { int O, I, H, stride; };
  const Shape shapes[] = {{16, 16, 32, 1},  {32, 16, 32, 2},  {32, 32, 16, 1},   {64, 32, 16, 2},
                          {64, 64, 8, 1},   {32, 32, 32, 1},  {64, 32, 32, 2},   {64, 64, 16, 1},
                          {128, 64, 16, 2}, {128, 128, 8, 1}};
  const int N = 64;
  for (const Shape &sh : shapes) {
    const int OH = (sh.H + 2 - 3) / sh.stride + 1;
    memory::dims src{N, sh.I, sh.H, sh.H}, wei{sh.O, sh.I, 3, 3}, dst{N, sh.O, OH, OH};
    memory::dims strides{sh.stride, sh.stride}, pad{1, 1};
    auto srcAny = memory::desc(src, dt::f32, tag::any), weiAny = memory::desc(wei, dt::f32, tag::any),
         dstAny = memory::desc(dst, dt::f32, tag::any);
    auto fwdDesc = convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                             srcAny, weiAny, dstAny, strides, pad, pad);
    auto fwdPd = convolution_forward::primitive_desc(fwdDesc, eng);
    auto bdDesc = convolution_backward_data::desc(algorithm::convolution_direct, srcAny, weiAny, dstAny,
                                                  strides, pad, pad);
    auto bdPd = convolution_backward_data::primitive_desc(bdDesc, eng, fwdPd);
    auto bwDesc = convolution_backward_weights::desc(algorithm::convolution_direct, srcAny, weiAny,
                                                     dstAny, strides, pad, pad);
    auto bwPd = convolution_backward_weights::primitive_desc(bwDesc, eng, fwdPd);
    memory srcM = filled(fwdPd.src_desc(), eng), weiM = filled(fwdPd.weights_desc(), eng),
           dstM = filled(fwdPd.dst_desc(), eng);
    memory dsrcM = filled(bdPd.diff_src_desc(), eng), ddstM = filled(bdPd.diff_dst_desc(), eng),
           bdWei = filled(bdPd.weights_desc(), eng);
    memory bwSrc = filled(bwPd.src_desc(), eng), bwDdst = filled(bwPd.diff_dst_desc(), eng),
           dweiM = filled(bwPd.diff_weights_desc(), eng);
    convolution_forward fwd(fwdPd);
    convolution_backward_data bd(bdPd);
    convolution_backward_weights bw(bwPd);
    double f = medianMs([&] {
      fwd.execute(s, {{DNNL_ARG_SRC, srcM}, {DNNL_ARG_WEIGHTS, weiM}, {DNNL_ARG_DST, dstM}});
      s.wait();
    }, reps);
    double b1 = medianMs([&] {
      bd.execute(s, {{DNNL_ARG_DIFF_SRC, dsrcM}, {DNNL_ARG_WEIGHTS, bdWei}, {DNNL_ARG_DIFF_DST, ddstM}});
      s.wait();
    }, reps);
    double b2 = medianMs([&] {
      bw.execute(s, {{DNNL_ARG_SRC, bwSrc}, {DNNL_ARG_DIFF_WEIGHTS, dweiM}, {DNNL_ARG_DIFF_DST, bwDdst}});
      s.wait();
    }, reps);
    double macs = double(sh.O) * sh.I * 9 * N * OH * OH;
    fmt::print("{{\"kind\": \"onednn\", \"O\": {}, \"I\": {}, \"k\": 3, \"hw\": {}, \"stride\": {}, "
               "\"fwd_ms\": {:.4f}, \"bwd_data_ms\": {:.4f}, \"bwd_weight_ms\": {:.4f}, "
               "\"fwd_gflops\": {:.2f}, \"bwd_data_gflops\": {:.2f}, \"bwd_weight_gflops\": {:.2f}}}\n",
               sh.O, sh.I, OH, sh.stride, f, b1, b2, 2 * macs / f / 1e6, 2 * macs / b1 / 1e6,
               2 * macs / b2 / 1e6);
  }
  return 0;
}
