//===- OnnxConstants.cpp - constant tensors of an ONNX graph --------------===//
#include "tools/mest-import/OnnxConstants.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

namespace mest::onnx_import {

namespace {

using onnx::TensorProto;

/// Most elements a constant may have: far above any layer's weights, low enough
/// that a corrupt dims field cannot make the importer allocate without bound.
constexpr int64_t kMaxElements = int64_t(1) << 31;

int64_t product(const std::vector<int64_t> &dims, const std::string &what) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0) throw ImportError(what + ": negative dimension " + std::to_string(d));
    if (d != 0 && n > kMaxElements / d)
      throw ImportError(what + ": more than 2^31 elements");
    n *= d;
  }
  return n;
}

int elementBytes(int32_t type) {
  switch (type) {
  case TensorProto::FLOAT: case TensorProto::INT32: return 4;
  case TensorProto::DOUBLE: case TensorProto::INT64: return 8;
  case TensorProto::INT16: case TensorProto::UINT16: return 2;
  case TensorProto::INT8: case TensorProto::UINT8: case TensorProto::BOOL: return 1;
  default: return 0;
  }
}

double rawElement(const char *p, int32_t type) {
  switch (type) {
  case TensorProto::FLOAT: { float v; std::memcpy(&v, p, 4); return v; }
  case TensorProto::DOUBLE: { double v; std::memcpy(&v, p, 8); return v; }
  case TensorProto::INT32: { int32_t v; std::memcpy(&v, p, 4); return v; }
  case TensorProto::INT64: { int64_t v; std::memcpy(&v, p, 8); return double(v); }
  case TensorProto::INT16: { int16_t v; std::memcpy(&v, p, 2); return v; }
  case TensorProto::UINT16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
  case TensorProto::INT8: return double(static_cast<int8_t>(*p));
  default: return double(static_cast<uint8_t>(*p));  // UINT8, BOOL
  }
}

std::string typeName(int32_t type) {
  return TensorProto::DataType_IsValid(type)
             ? TensorProto::DataType_Name(static_cast<TensorProto::DataType>(type))
             : "type " + std::to_string(type);
}

/// numpy broadcasting of two shapes; throws naming `what`.
std::vector<int64_t> broadcastDims(const std::vector<int64_t> &a, const std::vector<int64_t> &b,
                                   const std::string &what) {
  size_t r = std::max(a.size(), b.size());
  std::vector<int64_t> out(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1)
      throw ImportError(what + ": shapes do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

/// Index into `c` of the element at `index` of a broadcast result of dims `out`.
int64_t broadcastIndex(const Constant &c, const std::vector<int64_t> &out, int64_t index) {
  int64_t at = 0, stride = 1;
  for (size_t i = out.size(); i-- > 0;) {
    int64_t coord = index % out[i];
    index /= out[i];
    size_t ci = i + c.dims.size();
    if (ci < out.size()) break;
    ci -= out.size();
    if (c.dims[ci] != 1) at += coord * stride;
    stride *= c.dims[ci];
  }
  return at;
}

int64_t normalizeAxis(int64_t axis, int64_t rank, const std::string &what) {
  if (axis < -rank || axis >= rank)
    throw ImportError(what + ": axis " + std::to_string(axis) + " out of range for rank " +
                      std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

const Constant &need(const std::vector<const Constant *> &in, size_t i, const std::string &what) {
  if (i >= in.size() || !in[i])
    throw ImportError(what + ": input " + std::to_string(i) + " is missing");
  return *in[i];
}

/// Axes of Squeeze/Unsqueeze: the attribute (opset < 13) or the second input.
std::vector<int64_t> axesOf(const onnx::NodeProto &node, const std::vector<const Constant *> &in,
                            const std::string &what) {
  if (in.size() > 1 && in[1]) return in[1]->ints(what + " axes");
  return intsAttribute(node, "axes");
}

} // namespace

int64_t Constant::numel() const { return product(dims, "constant"); }

bool Constant::isInteger() const {
  return type != TensorProto::FLOAT && type != TensorProto::DOUBLE &&
         type != TensorProto::FLOAT16;
}

std::vector<int64_t> Constant::ints(const std::string &what) const {
  std::vector<int64_t> out;
  out.reserve(values.size());
  for (double v : values) {
    if (v != std::floor(v)) throw ImportError(what + ": expected integers");
    // INT64_MAX/MIN (Slice's "to the end") are not exact as doubles: saturate.
    constexpr int64_t big = int64_t(1) << 62;
    out.push_back(v >= double(big) ? big : v <= -double(big) ? -big : static_cast<int64_t>(v));
  }
  return out;
}

Constant fromTensor(const TensorProto &t, const std::string &what) {
  if (t.data_location() == TensorProto::EXTERNAL)
    throw ImportError(what + ": data stored outside the model file (external data) is not "
                             "supported; save the model with its weights inside");
  Constant c;
  c.type = t.data_type();
  c.dims.assign(t.dims().begin(), t.dims().end());
  const int64_t n = product(c.dims, what);
  const int bytes = elementBytes(c.type);
  if (bytes == 0)
    throw ImportError(what + ": element type " + typeName(c.type) +
                      " is not supported (float, double and integer tensors are)");
  c.values.resize(n);
  if (t.has_raw_data()) {
    const std::string &raw = t.raw_data();
    if (int64_t(raw.size()) != n * bytes)
      throw ImportError(what + ": " + std::to_string(raw.size()) + " bytes of data for " +
                        std::to_string(n) + " elements of " + typeName(c.type));
    for (int64_t i = 0; i < n; ++i) c.values[i] = rawElement(raw.data() + i * bytes, c.type);
    return c;
  }
  int64_t have = 0;
  switch (c.type) {
  case TensorProto::FLOAT: have = t.float_data_size(); break;
  case TensorProto::DOUBLE: have = t.double_data_size(); break;
  case TensorProto::INT64: have = t.int64_data_size(); break;
  default: have = t.int32_data_size(); break;
  }
  if (have != n)
    throw ImportError(what + ": " + std::to_string(have) + " values for " + std::to_string(n) +
                      " elements");
  for (int64_t i = 0; i < n; ++i) {
    switch (c.type) {
    case TensorProto::FLOAT: c.values[i] = t.float_data(i); break;
    case TensorProto::DOUBLE: c.values[i] = t.double_data(i); break;
    case TensorProto::INT64: c.values[i] = double(t.int64_data(i)); break;
    default: c.values[i] = t.int32_data(i); break;
    }
  }
  return c;
}

bool isFoldable(const std::string &op) {
  static const char *ops[] = {"Constant", "Identity",  "Cast",  "Gather",  "Unsqueeze",
                              "Squeeze",  "Concat",    "Reshape", "Slice", "Transpose",
                              "ConstantOfShape", "Add", "Sub",   "Mul",    "Div"};
  return std::find(std::begin(ops), std::end(ops), op) != std::end(ops);
}

Constant foldConstant(const onnx::NodeProto &node, const std::vector<const Constant *> &in) {
  const std::string what = describe(node);
  const std::string &op = node.op_type();
  Constant r;
  if (op == "Constant") {
    if (auto *a = findAttribute(node, "value")) return fromTensor(a->t(), what);
    if (auto *a = findAttribute(node, "value_float")) return {TensorProto::FLOAT, {}, {a->f()}};
    if (auto *a = findAttribute(node, "value_int"))
      return {TensorProto::INT64, {}, {double(a->i())}};
    if (auto *a = findAttribute(node, "value_floats")) {
      r = {TensorProto::FLOAT, {a->floats_size()}, {}};
      for (float f : a->floats()) r.values.push_back(f);
      return r;
    }
    if (auto *a = findAttribute(node, "value_ints")) {
      r = {TensorProto::INT64, {a->ints_size()}, {}};
      for (int64_t i : a->ints()) r.values.push_back(double(i));
      return r;
    }
    throw ImportError(what + ": only tensor, float and int values are supported");
  }
  const Constant &x = need(in, 0, what);
  if (op == "Identity") return x;
  if (op == "Cast") {
    r = x;
    r.type = static_cast<int32_t>(intAttribute(node, "to", TensorProto::FLOAT));
    if (r.isInteger())
      for (double &v : r.values) v = std::trunc(v);
    else if (r.type == TensorProto::FLOAT)
      for (double &v : r.values) v = static_cast<float>(v);
    return r;
  }
  if (op == "Gather") {
    const Constant &idx = need(in, 1, what);
    int64_t axis = normalizeAxis(intAttribute(node, "axis", 0), int64_t(x.dims.size()), what);
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.dims[i];
    for (size_t i = axis + 1; i < x.dims.size(); ++i) inner *= x.dims[i];
    const int64_t n = x.dims[axis];
    r.type = x.type;
    r.dims.assign(x.dims.begin(), x.dims.begin() + axis);
    r.dims.insert(r.dims.end(), idx.dims.begin(), idx.dims.end());
    r.dims.insert(r.dims.end(), x.dims.begin() + axis + 1, x.dims.end());
    std::vector<int64_t> ids = idx.ints(what + " indices");
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t id : ids) {
        if (id < -n || id >= n) throw ImportError(what + ": index out of range");
        if (id < 0) id += n;
        for (int64_t i = 0; i < inner; ++i) r.values.push_back(x.values[(o * n + id) * inner + i]);
      }
    return r;
  }
  if (op == "Unsqueeze" || op == "Squeeze") {
    r = x;
    std::vector<int64_t> axes = axesOf(node, in, what);
    if (op == "Unsqueeze") {
      int64_t rank = int64_t(x.dims.size() + axes.size());
      for (int64_t &a : axes) a = normalizeAxis(a, rank, what);
      std::sort(axes.begin(), axes.end());
      for (int64_t a : axes) r.dims.insert(r.dims.begin() + a, 1);
    } else {
      int64_t rank = int64_t(x.dims.size());
      std::vector<bool> drop(rank, axes.empty());
      for (int64_t a : axes) drop[normalizeAxis(a, rank, what)] = true;
      r.dims.clear();
      for (int64_t i = 0; i < rank; ++i) {
        if (drop[i] && x.dims[i] == 1) continue;
        if (drop[i] && !axes.empty()) throw ImportError(what + ": squeezes a dimension != 1");
        r.dims.push_back(x.dims[i]);
      }
    }
    return r;
  }
  if (op == "Concat") {
    int64_t axis = normalizeAxis(intAttribute(node, "axis", 0), int64_t(x.dims.size()), what);
    if (axis != 0 || x.dims.size() != 1)
      throw ImportError(what + ": only 1-D constants are concatenated at import");
    r.type = x.type;
    r.dims = {0};
    for (size_t i = 0; i < in.size(); ++i) {
      const Constant &c = need(in, i, what);
      if (c.dims.size() != 1) throw ImportError(what + ": inputs of different rank");
      r.values.insert(r.values.end(), c.values.begin(), c.values.end());
      r.dims[0] += c.dims[0];
    }
    return r;
  }
  if (op == "Reshape") {
    std::vector<int64_t> shape = need(in, 1, what).ints(what + " shape");
    r = x;
    r.dims.clear();
    int64_t known = 1, infer = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
      int64_t d = shape[i];
      if (d == 0 && !intAttribute(node, "allowzero", 0)) {
        if (i >= x.dims.size()) throw ImportError(what + ": 0 copies a missing dimension");
        d = x.dims[i];
      }
      if (d == -1) {
        if (infer >= 0) throw ImportError(what + ": two -1 dimensions");
        infer = int64_t(i);
      } else {
        if (d < 0) throw ImportError(what + ": negative dimension");
        known *= d;
      }
      r.dims.push_back(d);
    }
    if (infer >= 0) r.dims[infer] = known ? x.numel() / known : 0;
    if (product(r.dims, what) != x.numel()) throw ImportError(what + ": element count changes");
    return r;
  }
  if (op == "Slice") {
    std::vector<int64_t> starts = need(in, 1, what).ints(what), ends = need(in, 2, what).ints(what);
    std::vector<int64_t> steps = in.size() > 4 && in[4] ? in[4]->ints(what) : std::vector<int64_t>{1};
    int64_t rank = int64_t(x.dims.size()), axis = 0;
    if (in.size() > 3 && in[3]) axis = normalizeAxis(in[3]->ints(what).at(0), rank, what);
    if (rank == 0 || starts.size() != 1 || ends.size() != 1 || steps.size() != 1 || steps[0] == 0)
      throw ImportError(what + ": expected one axis, start, end and non-zero step");
    const int64_t n = x.dims[axis], step = steps[0];
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < axis; ++i) outer *= x.dims[i];
    for (int64_t i = axis + 1; i < rank; ++i) inner *= x.dims[i];
    auto clampIndex = [&](int64_t v, int64_t lo, int64_t hi) {
      if (v < 0) v += n;
      return std::clamp(v, lo, hi);
    };
    int64_t b = step > 0 ? clampIndex(starts[0], 0, n) : clampIndex(starts[0], -1, n - 1);
    int64_t e = step > 0 ? clampIndex(ends[0], 0, n) : clampIndex(ends[0], -1, n - 1);
    r.type = x.type;
    r.dims = x.dims;
    r.dims[axis] = 0;
    for (int64_t i = b; step > 0 ? i < e : i > e; i += step) ++r.dims[axis];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = b; step > 0 ? i < e : i > e; i += step)
        for (int64_t j = 0; j < inner; ++j) r.values.push_back(x.values[(o * n + i) * inner + j]);
    return r;
  }
  if (op == "Transpose") {
    std::vector<int64_t> perm = intsAttribute(node, "perm");
    if (x.dims.size() > 2 || (!perm.empty() && perm.size() != x.dims.size()))
      throw ImportError(what + ": only 1-D and 2-D constants are transposed at import");
    r = x;
    if (x.dims.size() == 2 && (perm.empty() || perm[0] == 1)) {
      r.dims = {x.dims[1], x.dims[0]};
      for (int64_t i = 0; i < x.dims[0]; ++i)
        for (int64_t j = 0; j < x.dims[1]; ++j) r.values[j * x.dims[0] + i] = x.values[i * x.dims[1] + j];
    }
    return r;
  }
  if (op == "ConstantOfShape") {
    r.dims = x.ints(what + " shape");
    r.type = TensorProto::FLOAT;
    double fill = 0.0;
    if (auto *a = findAttribute(node, "value")) {
      Constant v = fromTensor(a->t(), what + " value");
      if (v.values.size() != 1) throw ImportError(what + ": value must hold one element");
      r.type = v.type;
      fill = v.values[0];
    }
    r.values.assign(product(r.dims, what), fill);
    return r;
  }
  // Add, Sub, Mul, Div with numpy broadcasting.
  const Constant &y = need(in, 1, what);
  r.type = x.type;
  r.dims = broadcastDims(x.dims, y.dims, what);
  const int64_t n = product(r.dims, what);
  r.values.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    double a = x.values[broadcastIndex(x, r.dims, i)], b = y.values[broadcastIndex(y, r.dims, i)];
    double v = op == "Add" ? a + b : op == "Sub" ? a - b : op == "Mul" ? a * b : 0.0;
    if (op == "Div") {
      if (b == 0.0 && r.isInteger()) throw ImportError(what + ": integer division by zero");
      v = r.isInteger() ? std::trunc(a / b) : a / b;
    }
    r.values[i] = v;
  }
  return r;
}

const onnx::AttributeProto *findAttribute(const onnx::NodeProto &node, const std::string &name) {
  for (const auto &a : node.attribute())
    if (a.name() == name) return &a;
  return nullptr;
}

int64_t intAttribute(const onnx::NodeProto &node, const std::string &name, int64_t otherwise) {
  const auto *a = findAttribute(node, name);
  return a ? a->i() : otherwise;
}

float floatAttribute(const onnx::NodeProto &node, const std::string &name, float otherwise) {
  const auto *a = findAttribute(node, name);
  return a ? a->f() : otherwise;
}

std::vector<int64_t> intsAttribute(const onnx::NodeProto &node, const std::string &name) {
  const auto *a = findAttribute(node, name);
  if (!a) return {};
  return {a->ints().begin(), a->ints().end()};
}

std::string stringAttribute(const onnx::NodeProto &node, const std::string &name) {
  const auto *a = findAttribute(node, name);
  return a ? a->s() : "";
}

std::string describe(const onnx::NodeProto &node) {
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

} // namespace mest::onnx_import
