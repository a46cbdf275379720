//===- OnnxExport.cpp - a trained model as an ONNX file -------------------===//
#include "runtime/driver/OnnxExport.h"

#include "runtime/support/Error.h"

#include <cstring>
#include <vector>

namespace mest::rt {

namespace {

/// Protobuf wire format (developers.google.com/protocol-buffers/docs/encoding):
/// a message is a sequence of (field << 3 | wire type) keys and values.
class Message {
public:
  std::string bytes;

  Message &varint(int field, uint64_t v) { key(field, 0); raw(v); return *this; }
  Message &sint(int field, int64_t v) { return varint(field, static_cast<uint64_t>(v)); }
  Message &fixed32(int field, float f) {
    key(field, 5);
    char b[4];
    std::memcpy(b, &f, 4);
    bytes.append(b, 4);
    return *this;
  }
  Message &string(int field, const std::string &s) {
    key(field, 2);
    raw(s.size());
    bytes += s;
    return *this;
  }
  Message &message(int field, const Message &m) { return string(field, m.bytes); }

private:
  void key(int field, int type) { raw(uint64_t(field) << 3 | uint64_t(type)); }
  void raw(uint64_t v) {
    while (v >= 0x80) bytes += char((v & 0x7f) | 0x80), v >>= 7;
    bytes += char(v);
  }
};

// onnx.proto field numbers and enum values (ONNX 1.12).
enum { kFloat = 1, kInt64 = 7 };                 // TensorProto.DataType
enum { kAttrFloat = 1, kAttrInt = 2, kAttrInts = 7 };  // AttributeProto.AttributeType

Message tensor(const std::string &name, const std::vector<int64_t> &dims, int type,
               const void *data, size_t bytes) {
  Message t;
  for (int64_t d : dims) t.sint(1, d);
  t.varint(2, type).string(8, name).string(9, std::string(static_cast<const char *>(data), bytes));
  return t;
}

Message valueInfo(const std::string &name, const std::vector<int64_t> &dims) {
  Message shape;
  for (size_t i = 0; i < dims.size(); ++i) {
    Message dim;
    if (i == 0) dim.string(2, "N");  // any batch: the compiled one is a training choice
    else dim.sint(1, dims[i]);
    shape.message(1, dim);
  }
  Message tt;
  tt.varint(1, kFloat).message(2, shape);
  Message type;
  type.message(1, tt);
  Message v;
  v.string(1, name).message(2, type);
  return v;
}

class Exporter {
public:
  Exporter(Model &model, bool sparse) : model(model), desc(model.desc()), sparse(sparse) {}

  std::string run();

private:
  Model &model;
  const mest_model_desc &desc;
  bool sparse;
  Message graph;

  std::string valueName(int v) const { return v == 0 ? "input" : "v" + std::to_string(v); }
  void node(const std::string &op, const std::vector<std::string> &in, const std::string &out,
            const std::vector<Message> &attrs) {
    Message n;
    for (const auto &i : in) n.string(1, i);
    n.string(2, out).string(3, out + "/" + op).string(4, op);
    for (const Message &a : attrs) n.message(5, a);
    graph.message(1, n);
  }
  static Message ints(const std::string &name, std::vector<int64_t> v) {
    Message a;
    a.string(1, name);
    for (int64_t x : v) a.sint(8, x);
    a.varint(20, kAttrInts);
    return a;
  }
  static Message integer(const std::string &name, int64_t v) {
    Message a;
    a.string(1, name).sint(3, v).varint(20, kAttrInt);
    return a;
  }
  static Message real(const std::string &name, float v) {
    Message a;
    a.string(1, name).fixed32(2, v).varint(20, kAttrFloat);
    return a;
  }
  void initializer(const std::string &name, const std::vector<int64_t> &dims, const float *v) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    graph.message(5, tensor(name, dims, kFloat, v, size_t(n) * 4));
  }
  void weights(const mest_layer_desc &l, const CompressedWeights &w, const std::string &name);
};

void Exporter::weights(const mest_layer_desc &l, const CompressedWeights &w,
                       const std::string &name) {
  const WeightShape &s = w.spec.shape;
  std::vector<int64_t> dims = l.kind == MEST_LAYER_LINEAR ? std::vector<int64_t>{s.O, s.I}
                                                          : std::vector<int64_t>{s.O, s.I, s.KH, s.KW};
  std::vector<float> dense(s.numel());
  w.densify(w.values, dense.data());
  if (!sparse || w.spec.scheme == Scheme::Dense) return initializer(name, dims, dense.data());
  // SparseTensorProto: values [NNZ] and linear indices [NNZ] into the dense shape.
  std::vector<float> values;
  std::vector<int64_t> index;
  for (int64_t i = 0; i < s.numel(); ++i)
    if (dense[i] != 0.0f) values.push_back(dense[i]), index.push_back(i);
  const int64_t nnz = int64_t(values.size());
  Message st;
  st.message(1, tensor(name, {nnz}, kFloat, values.data(), values.size() * 4));
  st.message(2, tensor(name + ".indices", {nnz}, kInt64, index.data(), index.size() * 8));
  for (int64_t d : dims) st.sint(3, d);
  graph.message(15, st);
}

std::string Exporter::run() {
  if (desc.num_nodes <= 0 || !desc.nodes)
    throw Error(fmt::format("model {} carries no inference graph (compiled by an older mestc?)",
                            desc.name));
  uint8_t *state = model.state();
  std::vector<const CompressedWeights *> byLayer(desc.num_layers, nullptr);
  for (int i = 0, w = 0; i < desc.num_layers; ++i)
    if (desc.layers[i].kind != MEST_LAYER_BATCH_NORM) byLayer[i] = model.weights()[w++].get();
  for (int i = 0; i < desc.num_nodes; ++i) {
    const mest_graph_node &g = desc.nodes[i];
    const std::string out = i + 1 == desc.num_nodes ? "logits" : valueName(i + 1);
    std::vector<std::string> in;
    for (int k = 0; k < 2; ++k)
      if (g.inputs[k] >= 0) in.push_back(valueName(g.inputs[k]));
    const mest_layer_desc *l = g.layer >= 0 ? &desc.layers[g.layer] : nullptr;
    const std::string layer = l ? l->name : "";
    switch (g.op) {
    case MEST_OP_CONV2D: case MEST_OP_LINEAR: {
      const CompressedWeights &w = *byLayer[g.layer];
      weights(*l, w, layer + ".weight");
      in.push_back(layer + ".weight");
      if (l->has_bias) {
        initializer(layer + ".bias", {l->out_channels}, w.bias);
        in.push_back(layer + ".bias");
      }
      if (g.op == MEST_OP_LINEAR) {
        node("Gemm", in, out, {integer("transB", 1)});
      } else {
        node("Conv", in, out,
             {ints("kernel_shape", {l->kernel_h, l->kernel_w}),
              ints("strides", {l->stride_h, l->stride_w}),
              ints("pads", {l->pad_h, l->pad_w, l->pad_h, l->pad_w}),
              integer("group", l->groups)});
      }
      break;
    }
    case MEST_OP_BATCH_NORM: {
      auto layout = batchNormStateLayout(l->out_channels);
      const uint8_t *base = state + l->state_offset;
      const float *p = reinterpret_cast<const float *>(base + layout.params);
      const int64_t C = l->out_channels;
      // PyTorch's names, so that mest-import reads the layer names back.
      initializer(layer + ".weight", {C}, p);
      initializer(layer + ".bias", {C}, p + C);
      initializer(layer + ".running_mean", {C}, reinterpret_cast<const float *>(base + layout.runMean));
      initializer(layer + ".running_var", {C}, reinterpret_cast<const float *>(base + layout.runVar));
      for (const char *part : {".weight", ".bias", ".running_mean", ".running_var"})
        in.push_back(layer + part);
      node("BatchNormalization", in, out,
           {real("epsilon", float(l->bn_eps)), real("momentum", float(1.0 - l->bn_momentum))});
      break;
    }
    case MEST_OP_RELU: node("Relu", in, out, {}); break;
    case MEST_OP_CLIP:  // opset 13: the bounds are inputs
      initializer(out + ".min", {}, &g.params[0]);
      initializer(out + ".max", {}, &g.params[1]);
      node("Clip", {in[0], out + ".min", out + ".max"}, out, {});
      break;
    case MEST_OP_SIGMOID: node("Sigmoid", in, out, {}); break;
    case MEST_OP_HARD_SIGMOID:
      node("HardSigmoid", in, out, {real("alpha", g.params[0]), real("beta", g.params[1])});
      break;
    case MEST_OP_HARD_SWISH: case MEST_OP_SILU:  // opset 13: x * gate(x)
      if (g.op == MEST_OP_SILU)
        node("Sigmoid", in, out + ".gate", {});
      else
        node("HardSigmoid", in, out + ".gate", {real("alpha", g.params[0]), real("beta", g.params[1])});
      node("Mul", {in[0], out + ".gate"}, out, {});
      break;
    case MEST_OP_SCALE_CHANNELS: {  // the [N, C] scale back to [N, C, 1, 1]
      const int64_t shape[4] = {0, -1, 1, 1};
      graph.message(5, tensor(out + ".shape", {4}, kInt64, shape, sizeof shape));
      node("Reshape", {in[1], out + ".shape"}, out + ".scale", {});
      node("Mul", {in[0], out + ".scale"}, out, {});
      break;
    }
    case MEST_OP_ADD: node("Add", in, out, {}); break;
    case MEST_OP_CONCAT: node("Concat", in, out, {integer("axis", 1)}); break;
    case MEST_OP_SLICE_CHANNELS: {  // Slice on axis 1 (opset 13: starts, ends, axes as inputs)
      const int64_t start = int64_t(g.params[0]), end = start + int64_t(g.params[1]), axis = 1;
      graph.message(5, tensor(out + ".starts", {1}, kInt64, &start, 8));
      graph.message(5, tensor(out + ".ends", {1}, kInt64, &end, 8));
      graph.message(5, tensor(out + ".axes", {1}, kInt64, &axis, 8));
      node("Slice", {in[0], out + ".starts", out + ".ends", out + ".axes"}, out, {});
      break;
    }
    case MEST_OP_SHUFFLE_CHANNELS: {  // as PyTorch exports it: reshape, transpose, reshape
      const int64_t groups = int64_t(g.params[0]), H = g.kernel[0], W = g.kernel[1];
      const int64_t split[5] = {0, groups, -1, H, W}, back[4] = {0, -1, H, W};
      graph.message(5, tensor(out + ".split", {5}, kInt64, split, sizeof split));
      graph.message(5, tensor(out + ".back", {4}, kInt64, back, sizeof back));
      node("Reshape", {in[0], out + ".split"}, out + ".5d", {});
      node("Transpose", {out + ".5d"}, out + ".t", {ints("perm", {0, 2, 1, 3, 4})});
      node("Reshape", {out + ".t", out + ".back"}, out, {});
      break;
    }
    case MEST_OP_MAX_POOL: case MEST_OP_AVG_POOL:
      node(g.op == MEST_OP_MAX_POOL ? "MaxPool" : "AveragePool", in, out,
           {ints("kernel_shape", {g.kernel[0], g.kernel[1]}),
            ints("strides", {g.stride[0], g.stride[1]}),
            ints("pads", {g.pad[0], g.pad[1], g.pad[0], g.pad[1]}),
            integer("ceil_mode", g.params[0] != 0.0f)});
      break;
    case MEST_OP_GLOBAL_AVG_POOL:  // ONNX keeps [N, C, 1, 1]; mest's result is [N, C]
      node("GlobalAveragePool", in, out + ".4d", {});
      node("Flatten", {out + ".4d"}, out, {integer("axis", 1)});
      break;
    case MEST_OP_FLATTEN: node("Flatten", in, out, {integer("axis", 1)}); break;
    default:
      throw Error(fmt::format("model {}: graph node {} has unknown op {}", desc.name, i, g.op));
    }
  }
  graph.string(2, desc.name);
  graph.message(11, valueInfo("input", {desc.batch, desc.in_channels, desc.in_height, desc.in_width}));
  graph.message(12, valueInfo("logits", {desc.batch, desc.classes}));
  Message opset;
  opset.string(1, "").varint(2, 13);
  Message m;
  m.varint(1, 7).string(2, "mest").message(7, graph).message(8, opset);
  return m.bytes;
}

} // namespace

std::string onnxModel(Model &model, bool sparseInitializers) {
  return Exporter(model, sparseInitializers).run();
}

} // namespace mest::rt
