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

#endif // MEST_ATTRS_TD
