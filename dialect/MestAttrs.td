//===- MestAttrs.td - mest attributes ----------------------*- tablegen -*-===//
#ifndef MEST_ATTRS_TD
#define MEST_ATTRS_TD

include "dialect/MestDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

def Mest_Scheme : I32EnumAttr<"Scheme", "sparsity scheme of a layer's weights", [
    I32EnumAttrCase<"dense", 0>,
    I32EnumAttrCase<"unstructured", 1>,
    I32EnumAttrCase<"channel", 2>,
    I32EnumAttrCase<"block", 3>,
    I32EnumAttrCase<"pattern", 4>]> {
  let cppNamespace = "::mest";
  let genSpecializedAttr = 0;
}

def Mest_SparsityAttr : AttrDef<Mest_Dialect, "Sparsity"> {
  let mnemonic = "sparsity";
  let summary = "How a layer's weights are sparse and how much storage they get";
  let description = [{
    `scheme` selects the unit of pruning and growing (see docs/formats.md):
    - `dense`: no sparsity (target and capacity are 0);
    - `unstructured`: single weights;
    - `channel`: whole input channels;
    - `block`: block-columns of `block = [rows, cols]` (default `[4, 1]`: the same
      input position in 4 consecutive filters);
    - `pattern`: 3x3 kernels keeping 4 taps chosen from a pattern library, plus
      whole-kernel connectivity with the same kernel count in every filter. The
      default library is the 8 patterns of the MEST paper; `patterns` replaces
      it with an explicit list of 4-tap patterns, each tap `row * 3 + col`.

    `target` is the sparsity at the end of training (fraction of zero weights).
    `capacity` is the densest state training may reach, given as a sparsity
    (`capacity <= target`); storage is sized for it once at compile time. It defaults to `target`. EM&S at a 0.90 target needs 0.85.

    ```mlir
    #mest.sparsity<dense>
    #mest.sparsity<unstructured, target = 0.9>
    #mest.sparsity<pattern, target = 0.9, capacity = 0.85>
    #mest.sparsity<block, target = 0.9, block = [4, 1]>
    #mest.sparsity<pattern, target = 0.8, patterns = [[4, 5, 7, 8], [3, 4, 6, 7]]>
    ```
  }];
  let parameters = (ins
    EnumParameter<Mest_Scheme>:$scheme,
    APFloatParameter<"target sparsity in [0, 1)">:$target,
    APFloatParameter<"storage capacity as a sparsity, <= target">:$capacity,
    AttrParameter<"int64_t", "block rows (output filters)">:$blockRows,
    AttrParameter<"int64_t", "block columns">:$blockCols,
    OptionalArrayRefParameter<"int64_t",
        "explicit pattern library, 4 taps per pattern, flattened">:$patterns
  );
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    static SparsityAttr getDense(::mlir::MLIRContext *ctx);
    static SparsityAttr get(::mlir::MLIRContext *ctx, Scheme scheme, double target,
                            double capacity, int64_t blockRows = 4, int64_t blockCols = 1,
                            ::llvm::ArrayRef<int64_t> patterns = {});
    static SparsityAttr getChecked(
        ::llvm::function_ref<::mlir::InFlightDiagnostic()> emitError,
        ::mlir::MLIRContext *ctx, Scheme scheme, double target, double capacity,
        int64_t blockRows = 4, int64_t blockCols = 1, ::llvm::ArrayRef<int64_t> patterns = {});
    double getTargetSparsity() const { return getTarget().convertToDouble(); }
    double getCapacitySparsity() const { return getCapacity().convertToDouble(); }
    bool isDense() const { return getScheme() == Scheme::dense; }
    /// The pattern library in effect: the explicit one, or the default 8 patterns.
    ::llvm::SmallVector<int64_t> getPatternTaps() const;
    int64_t getNumPatterns() const { return getPatternTaps().size() / 4; }
  }];
}

//===----------------------------------------------------------------------===//
// Activations (mest.activation)
//===----------------------------------------------------------------------===//

def Mest_Activation : I32EnumAttr<"Activation", "an elementwise activation of mest.activation", [
    I32EnumAttrCase<"sigmoid", 0>,
    I32EnumAttrCase<"hard_sigmoid", 1>,
    I32EnumAttrCase<"hard_swish", 2>,
    I32EnumAttrCase<"silu", 3>]> {
  let cppNamespace = "::mest";
  let genSpecializedAttr = 0;
}
def Mest_ActivationAttr : EnumAttr<Mest_Dialect, Mest_Activation, "activation">;

//===----------------------------------------------------------------------===//
// Kernel configuration (set by mest-configure-kernels, read by the emitters)
//===----------------------------------------------------------------------===//

def Mest_KernelVariant : I32EnumAttr<"KernelVariant", "how a conv kernel walks its data", [
    I32EnumAttrCase<"padded", 0>,
    I32EnumAttrCase<"direct", 1>]> {
  let cppNamespace = "::mest";
  let genSpecializedAttr = 0;
}

def Mest_LoopOrder : I32EnumAttr<"LoopOrder", "loop order of a direct forward kernel", [
    I32EnumAttrCase<"weight", 0>,
    I32EnumAttrCase<"output", 1>]> {
  let cppNamespace = "::mest";
  let genSpecializedAttr = 0;
}

def Mest_TargetAttr : AttrDef<Mest_Dialect, "Target"> {
  let mnemonic = "target";
  let summary = "The machine kernels are configured for";
  let description = [{
    What the kernel configuration needs to know of the target: its vector ISA
    (`avx2`, `avx512` or `neon`), the width and number of vector registers, the
    data caches, and the stack a kernel may use for per-thread scratch (it runs
    on OpenMP worker threads, whose stacks libomp sizes). `mestc` derives it
    from `--target`, `--cpu` and `--features` and puts it on the module as
    `mest.target`; mest-configure-kernels reads it.

    ```mlir
    module attributes {mest.target = #mest.target<isa = "avx512", vector_bits = 512,
        vector_registers = 32, l1_bytes = 32768, l2_bytes = 1048576,
        stack_bytes = 1572864>} { ... }
    ```
  }];
  let parameters = (ins
    StringRefParameter<"vector ISA: avx2, avx512 or neon">:$isa,
    "int64_t":$vector_bits,
    "int64_t":$vector_registers,
    "int64_t":$l1_bytes,
    "int64_t":$l2_bytes,
    "int64_t":$stack_bytes
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// Floats in one vector register.
    int64_t getVectorFloats() const { return getVectorBits() / 32; }
    /// The description of a named ISA (the defaults of x86 and aarch64 cores).
    static TargetAttr forIsa(::mlir::MLIRContext *ctx, ::llvm::StringRef isa);
  }];
}

def Mest_KernelConfigAttr : AttrDef<Mest_Dialect, "KernelConfig"> {
  let mnemonic = "kernel";
  let summary = "How the kernels of one conv2d or linear layer are generated";
  let description = [{
    Every decision the kernel emitters make for a layer, made once by
    mest-configure-kernels from the layer, its storage and the module's
    `#mest.target`, and read as is by mest-lower-kernels:
    - `forward`, `backward_data`, `backward_weight`: `padded` (the input or
      output gradient of an image copied into a zero-bordered per-thread buffer,
      output planes computed on the flattened padded grid) or `direct` (clipped
      per tap);
    - `order`: loop order of a direct forward kernel, `weight`-stationary or
      `output`-stationary in the interior;
    - `vector_width`: floats per vector along output rows (4, 8 or 16);
    - `registers`: the vector accumulators a register tile may hold (the
      target's budget);
    - `tile_filters`, `tile_vectors`: the register tile of a padded forward:
      `tile_filters` filters share every input load (and shuffle), each
      accumulating `tile_vectors` output vectors; at most `registers`
      accumulators. More than one filter needs filters whose weights sit on the
      same input positions: dense, channel (the compacted active channels) and
      block (its rows);
    - `data_tile_channels`, `data_tile_vectors`: the register tile of a padded
      stride-1 backward-data: `data_tile_channels` input channels (dense:
      consecutive; channel: consecutive active slots) share every
      output-gradient load and shuffle, each accumulating `data_tile_vectors`
      vectors of its gradient plane; 1 x registers / 2 for the other schemes,
      whose weights are listed by channel at run time;
    - `gradient_registers`: output-gradient vectors a padded backward-weight
      chunk holds;
    - `weight_tile_filters`: the filters of a padded backward-weight's register
      tile (dense: consecutive filters; channel: consecutive filters of an
      active slot), which share those registers and every input load; 1 (the
      default, omitted when printed) for the other schemes, whose filters'
      weights sit on different input positions (block has its rows);
    - `scratch_bytes`: stack bytes per thread the padded kernels need (0 when
      none is padded);
    - `image_groups`: a padded backward-weight splits the batch into this many
      groups of images (each group's filters further split over the threads
      left), each group summing its own partial gradients, reduced once before
      the update; 1 (the default, omitted when printed) splits the filters only.

    ```mlir
    #mest.kernel<forward = padded, backward_data = padded, backward_weight = padded,
                 order = weight, vector_width = 16, registers = 24, tile_filters = 4,
                 tile_vectors = 3, data_tile_channels = 4, data_tile_vectors = 3,
                 gradient_registers = 24, weight_tile_filters = 4, scratch_bytes = 87424,
                 image_groups = 2>
    ```
  }];
  let parameters = (ins
    EnumParameter<Mest_KernelVariant>:$forward,
    EnumParameter<Mest_KernelVariant>:$backward_data,
    EnumParameter<Mest_KernelVariant>:$backward_weight,
    EnumParameter<Mest_LoopOrder>:$order,
    "int64_t":$vector_width,
    "int64_t":$registers,
    "int64_t":$tile_filters,
    "int64_t":$tile_vectors,
    "int64_t":$data_tile_channels,
    "int64_t":$data_tile_vectors,
    "int64_t":$gradient_registers,
    DefaultValuedParameter<"int64_t", "1">:$weight_tile_filters,
    "int64_t":$scratch_bytes,
    DefaultValuedParameter<"int64_t", "1">:$image_groups
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // MEST_ATTRS_TD
