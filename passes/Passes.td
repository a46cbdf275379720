//===- Passes.td - mest passes -----------------------------*- tablegen -*-===//
#ifndef MEST_PASSES_TD
#define MEST_PASSES_TD

include "mlir/Pass/PassBase.td"

def MestReportCost : Pass<"mest-report-cost", "::mlir::ModuleOp"> {
  let summary = "Print what each layer of a model will cost: weights, MACs, bytes";
  let description = [{
    For every `mest.model` function, prints one row per layer with parameters:
    its dense parameter count, the weights kept at the target sparsity and at the
    storage capacity, forward and backward multiply-accumulates per batch at the
    target and dense, and the bytes its compressed storage takes (weights,
    gradients and momentum at capacity, plus index metadata and, for batch norm,
    running statistics), then model totals. Backward MACs count the weight
    gradient plus the data gradient, which the first layer does not need.
    The IR is not changed. The counts are the runtime's own (runtime/formats/Scheme.h).

    ```
    mest-opt --mest-report-cost -o /dev/null examples/resnet32-pattern90-ems.mlir
    ```
  }];
  let options = [
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "Output format: table (for people) or json (one object per model)">,
  ];
}

def MestPlanStorage : Pass<"mest-plan-storage", "::mlir::ModuleOp"> {
  let summary = "Place every layer's compressed state in the model's state block";
  let description = [{
    For every `mest.model` function, gives each layer with parameters an offset
    (`mest.state_offset`) in one state block and records the block's size on the
    function (`mest.state_bytes`). A conv2d or linear layer holds its weights,
    gradients and momentum sized for the sparsity attribute's capacity, its bias,
    and the scheme's metadata; a batch norm its scale, shift, their gradients and
    momentum and the running statistics. The layout of each layer is the one the
    runtime uses (runtime/formats/StateLayout.h). A model with `mest.dropout`
    also gets its dropout stream (seed and step counter, 16 bytes) after the
    layers, at `mest.dropout_state_offset` on the function. Combinations the
    code generator does not support are reported here, with the layer.

    Example: `mest.conv2d @c(...) {...}` becomes
    `mest.conv2d @c(...) {..., mest.state_offset = 1024 : i64}`.
  }];
}

def MestGroupFilters : Pass<"mest-group-filters", "::mlir::ModuleOp"> {
  let summary = "Choose each sparse layer's load-balancing (regrouping) policy";
  let description = [{
    Decides at compile time how the work of each sparse layer is split among
    threads, and records it as `mest.regroup`:
    - `balance-nnz` (unstructured, block): after every mutation the runtime sorts
      filters (block: groups of 4 filters) by active weights and deals them to
      threads, heaviest first, so each thread's contiguous chunk of the parallel
      loop carries the same work;
    - `pattern-mix` (pattern): filters already hold equal kernel counts (filter
      balance); the runtime orders filters by their pattern histogram so that
      similar filters run together;
    - `none` (channel, dense): the work per filter is uniform.
    The generated kernels iterate filters in the order array the runtime writes;
    only the order changes at run time, never the code.
  }];
}

def MestGenerateBackward : Pass<"mest-generate-backward", "::mlir::ModuleOp"> {
  let summary = "Derive the training and evaluation steps of each model at compile time";
  let description = [{
    For every `mest.model` function `@m`, creates
    - `@m_train(%x, %labels, %lr, %momentum, %weight_decay) -> (loss, correct, margin)`:
      the forward pass in training mode (batch statistics, saved arg-max), the
      per-example softmax cross-entropy, then a reverse walk of the forward graph
      emitting gradient ops: input gradients (never for the model input), weight
      gradients of the active weights only (`mest.grad_weight`, after the
      layer's `mest.grad_input`, which needs the old weights) each followed by
      the layer's SGD step (`mest.sgd`), batch-norm gradients followed by theirs,
      and gradient sums where a value feeds two ops (residual connections);
      each `mest.dropout` becomes `mest.dropout_train` (numbered by `index` in
      model order) with a `mest.dropout_grad` that recomputes its mask, and the
      step ends with `mest.advance_dropout` so the next step draws new masks;
    - `@m_eval(%x, %labels) -> (loss, correct, margin)`: the forward pass in
      evaluation mode and the loss; dropout is left out here and in `@m_infer`.
  }];
}

def MestFuseSgd : Pass<"mest-fuse-sgd", "::mlir::ModuleOp"> {
  let summary = "Fuse each weight gradient with its SGD step";
  let description = [{
    Needs: train steps from mest-generate-backward, where every conv2d and
    linear layer's `mest.grad_weight @L` is followed by its `mest.sgd @L`.

    Establishes: each such pair with no op in between that touches layer @L's
    state becomes one `mest.grad_weight_sgd @L`, whose kernel applies SGD to
    every weight right after computing its gradient (while it is in a register,
    and without a second pass over the layer's values, gradients and momentum).

    Why a pass of its own: the split form is what data-parallel training needs
    (the gradients are exchanged between the two ops), so mest-generate-backward
    emits it and this pass fuses it, by default in mestc; `mestc --split-updates`
    leaves it out. Runs before mest-plan-memory (the fused op has no results, so
    the arena plan is the same either way).
  }];
}

def MestSplitUpdateStep : Pass<"mest-split-update-step", "::mlir::ModuleOp"> {
  let summary = "Split each train step into a gradient step and an update step";
  let description = [{
    Needs: train steps from mest-generate-backward with every update a
    separate `mest.sgd @L` (mest-fuse-sgd not run: a fused
    `mest.grad_weight_sgd` is refused).

    Establishes: each `@M_train(%x, %labels, %lr, %mom, %wd)` becomes
    - `@M_grad(%x, %labels) -> (loss, correct, margin)` {mest.grad_step = @M}:
      forward and backward, every gradient stored in the state block and no
      parameter changed (`mest_model_grad_step`);
    - `@M_update(%lr, %mom, %wd)` {mest.update_step = @M}: every `mest.sgd`
      of the train step, in its order (`mest_model_update_step`).
    mest-lower-kernels emits `mest_model_train_step` as the two in sequence.
    Moving every update after the whole backward pass gives the same numbers
    as the interleaved train step: an update of layer L follows L's own
    gradients, and no later op of the backward pass reads L's parameters.
    With `sync-batch-norm`, the grad step carries `mest.sync_replicas`: its
    batch norms (forward statistics and backward sums) are summed across
    data-parallel replicas through `mest_rt_sum_across_replicas`.

    Why a pass of its own, in place of mest-fuse-sgd: data-parallel training
    exchanges the gradients between the two halves (docs/distributed.md), and
    the split is the same for every scheme. Runs before mest-form-kernels, so
    kernels are formed on the gradient step without updates in between.
  }];
  let options = [
    Option<"syncBatchNorm", "sync-batch-norm", "bool", /*default=*/"false",
           "Batch norms of the grad step sum their statistics across replicas">
  ];
}

def MestFormKernels : Pass<"mest-form-kernels", "::mlir::ModuleOp"> {
  let summary = "Group each step's ops into the kernels that will be emitted";
  let description = [{
    Needs: the train and eval steps (mest-generate-backward, after
    mest-fuse-sgd) and a `#mest.kernel` on every conv2d and linear layer of the
    model (mest-configure-kernels): whether a statistics epilogue or a
    gradient sum is fused depends on the kernel variant.

    Establishes, in every step:
    - each conv2d or linear op is a `mest.forward @layer` of the model's layer
      (its kernels reach their layer, its state block and its configuration
      through the symbol; the eval step's batch norms stay as they are);
    - `batch_norm_train -> relu` and `batch_norm_train -> add -> relu` are one
      `batch_norm_train ... residual %r) relu`, at the ReLU;
    - `relu_grad -> batch_norm_grad` is one `batch_norm_grad ..., relu %y)`;
    - `add(grad_input @L, %g)` at a fan-out is `grad_input @L(%dy, add %g)`
      where L's backward-data is padded;
    - a padded conv forward followed by a batch norm also returns the
      per-plane statistics `[N, C, 2]`, which the batch norm takes as
      `stats` (one pass over the activation less);
    - `relu(batch_norm_train(%x))` read only by padded conv kernels (forward,
      backward-weight) and by its own backward is folded into them:
      `mest.batch_norm_affine` computes statistics and per-channel scale and
      shift, the convs take `%x` with `bn_relu`, the backward recomputes the
      ReLU mask (`relu_affine`); the output is never stored.
    A chain is fused only when each intermediate has one user (it then never
    exists in memory) and no op between its first and last op touches the
    state of the layer whose op moves to the last one. Fusion is decided on SSA
    values only: the arena is planned afterwards, over the formed kernels, so a
    fused kernel's operands are live exactly as long as it reads them.

    Why here: after the schedule of updates is fixed (mest-fuse-sgd decides
    where each SGD runs, which bounds how far a weight read may move), before
    mest-plan-memory, which must see the values that exist.

    ```mlir
    %c = mest.conv2d @c1(%x) ...              %c, %s = mest.forward @c1(%x) ... stats ...
    %b, %m, %v = mest.batch_norm_train @bn1(%c)   ->  %y, %m, %v = mest.batch_norm_train
    %y = mest.relu %b                                   @bn1(%c, stats %s : ...) relu ...
    ```
  }];
}

def MestCompactActivations : Pass<"mest-compact-activations", "::mlir::ModuleOp"> {
  let summary = "Store the activations a training step saves for backward in 16-bit floats";
  let description = [{
    Needs: formed kernels (mest-form-kernels) and the layers' `#mest.kernel`
    configurations (mest-configure-kernels).

    Establishes: in every train step, each activation saved for backward
    (defined before the loss, read after it) has element type f16 or bf16
    (the `storage` option) instead of f32, when its producer writes it once
    and every reader converts on load. Producers: `mest.forward` whose forward
    kernel stores each output once (padded: a direct forward adds every tap
    into its output in memory, which therefore stays f32), `batch_norm_train`,
    `max_pool2d_train`, `avg_pool2d`,
    `global_avg_pool2d`, `flatten`. Readers: the inputs of `forward`,
    `grad_weight(_sgd)`, `batch_norm_train` (and its residual),
    `batch_norm_affine`, `batch_norm_grad` (and its ReLU output), `relu_grad`'s
    forward output, the pools and `flatten`. Anything else read by a saved value
    (the loss reads the logits) keeps it f32. Arithmetic stays f32: kernels
    widen on load and round to nearest even on store; a conv's statistics
    epilogue sums the rounded values, so the batch norm normalises exactly
    what it later reads back. Gradients, weights, optimizer state, batch
    statistics and the eval and inference steps are untouched.

    Why here: after kernel formation (a fused intermediate is never stored, so
    it is never rounded) and before mest-plan-memory, which then sizes the
    arena at 2 bytes per saved element.
  }];
  let options = [
    Option<"storage", "storage", "std::string", /*default=*/"\"f16\"",
           "16-bit format of saved activations: f16 or bf16">,
  ];
}

def MestPackReluMasks : Pass<"mest-pack-relu-masks", "::mlir::ModuleOp"> {
  let summary = "Keep ReLU outputs that backward reads only for their sign as bit masks";
  let description = [{
    Needs: formed kernels (mest-form-kernels): the ReLU backward that remains
    a `relu_grad` (not folded into a batch norm's backward) is what it packs.

    Establishes: in every train step, a value defined before the loss whose
    every reader after the loss is a `relu_grad` taking it as the forward
    output, with a size that is a multiple of 8, is read after the loss by
    none: a `mest.relu_mask` right after its definition packs its sign (bit
    `i % 8` of byte `i / 8`), and those readers become `mest.relu_mask_grad`
    on the mask. Exact: `relu_grad` reads nothing but the sign. In a ResNet
    this is the last block's output, which the global average pool reads in
    forward and only its ReLU's backward reads after the loss.

    Why here: after kernel formation and compaction (the mask reads the
    stored type), before mest-recompute-activations (a packed output is no
    longer saved, so it is not recomputed) and mest-plan-memory.
  }];
}

def MestRecomputeActivations : Pass<"mest-recompute-activations", "::mlir::ModuleOp"> {
  let summary = "Recompute batch-norm outputs in backward instead of keeping them";
  let description = [{
    Needs: formed kernels (mest-form-kernels) and, if any, the final storage
    types of saved activations (mest-compact-activations).

    Establishes: in every train step, a `batch_norm_train` output saved for
    backward (defined before the loss, read after it) whose input is saved
    anyway (its batch norm's backward reads it) is no longer read after the
    loss when its recompute chain is at most `depth` long. Its backward
    readers read `mest.batch_norm_apply(%input, %affine, residual %r')`
    instead, placed just before the first of them; the batch norm gains the
    `affine` result the recompute reads. The residual `%r'` is the residual
    itself when it is saved, or its own recompute: the chain of a value is 1
    plus its residual's chain (0 when the residual is kept). A residual that
    is not saved but is a batch norm output (the 1x1 shortcut of a
    downsampling block) is recomputed for the chain. The recomputed values
    equal the kept ones bit for bit (same kernel arithmetic, same storage
    type), so the step's results do not change; the output's live range then
    ends in forward, and mest-plan-memory reuses its bytes.

    In a ResNet the recomputable outputs are the block outputs
    `relu(bn2(conv2) + x)`, each needed by backward for the next block's
    weight gradient and its own ReLU mask, and the stem's `relu(bn1(conv1))`.
    `depth` 1 recomputes every other one; larger depths recompute more of
    them and keep the recomputed chains live longer in backward. Cost: one
    elementwise pass per recomputed tensor.

    Why here: after kernel formation (only outputs that are materialised
    exist) and compaction (the recompute stores in the kept value's type),
    before mest-plan-memory, which plans the shorter live ranges.
  }];
  let options = [
    Option<"depth", "depth", "int64_t", /*default=*/"1",
           "Longest recompute chain (a recomputed residual adds one); 0 recomputes nothing">,
  ];
}

def MestPlanMemory : Pass<"mest-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Place every activation and gradient of a step in one static arena";
  let description = [{
    For the step functions made by mest-generate-backward: computes the live
    range of every tensor in the straight-line step (definition to last use) and
    places tensors whose ranges overlap at disjoint offsets of one arena (greedy
    by size, lowest offset first). Records `mest.arena_offsets` on each op,
    `mest.arena_bytes` on the function and `mest.scratch_bytes`, the largest
    per-thread stack scratch of the model's kernel configurations, and reports
    both as a remark. No memory is allocated inside a step: arena plus threads
    times scratch is all a step takes besides the state.

    Why last: it plans the values that exist after mest-form-kernels (a fused
    intermediate has no slot; a fused kernel's operands live as long as it
    reads them) and the scratch the configurations fixed.
  }];
}

def MestConfigureKernels : Pass<"mest-configure-kernels", "::mlir::ModuleOp"> {
  let summary = "Decide every conv2d and linear layer's kernels and record them as #mest.kernel";
  let description = [{
    Needs: the model's storage plan (mest-plan-storage: a layer's capacity sizes
    its weight lists and scratch) and the module's `mest.target`
    (`#mest.target<...>`, set by mestc from `--target/--cpu/--features`; when
    absent the pass puts the `isa` option's description there).

    Establishes: a verified `mest.kernel = #mest.kernel<...>` on every conv2d
    and linear layer of the model: which directions run on zero-bordered
    per-thread copies (`padded`) or clipped per tap (`direct`), the forward loop
    order, the vector width, the register budgets of the padded chunks, and the
    per-thread stack scratch the padded kernels take. The rules (measured on
    ResNet-32, docs/performance.md):
    - padded where the stride is 1 or 2 in both directions, the scratch fits the
      target's stack budget and the output plane has >= 16 positions (linear
      layers and tiny planes would use a sliver of each vector); backward-data
      padded where its geometry allows it (stride 1 with padding below the
      kernel, or stride-2 phase planes covering the input);
    - a direct forward is output-stationary for unstructured and block layers
      at stride 1 with >= 24 weights per filter at capacity and rows <= 16,
      weight-stationary otherwise;
    - registers: 3/4 of the target's vector registers hold a forward chunk's
      accumulators (24 of 32 on AVX-512 and NEON, 12 of 16 on AVX2);
      backward-weight keeps 6 for a load, four sums and a spare, at most 24;
    - the padded forward's register tile (`tile_filters` x `tile_vectors`):
      filters whose weights sit on the same input positions share every input
      load and shuffle: a block's rows, else 4 (or 2) consecutive filters of a
      dense or channel layer (the channel scheme's active channels are the same
      for all filters) while each keeps >= 2 vectors; unstructured and pattern
      filters one at a time. A tile of M filters holds M x (vectors +
      broadcasts) registers, the broadcasts being the weights live per input
      load (a row of KW taps for dense and channel, one for block); a single
      filter takes half the budget; never more vectors than the output plane
      has. (ResNet-32 channel 0.9, AVX-512, forward per step: 1 x 12 6.2 ms,
      4 x 5 5.3, 4 x 4 4.8, 4 x 3 4.3, 4 x 2 4.5-5.3);
    - the padded backward-data's register tile (`data_tile_channels` x
      `data_tile_vectors`): at stride 1, input channels whose weights sit on
      the same output-gradient positions share every load, sized as the
      forward's: 4 or 2 consecutive channels of a dense layer (dividing them),
      2 consecutive active slots of a channel layer (which keeps few channels);
      other schemes and stride-2 phase planes one channel x half the budget,
      at most the gradient plane's vectors;
    - the padded backward-weight's register tile (`weight_tile_filters`):
      where one filter's output-gradient plane takes more vectors than the
      `gradient_registers` (so it is summed over several passes anyway), 4
      (or 2) consecutive filters of a dense or channel layer, dividing them
      and keeping >= 2 of the registers each, share them and every input load
      (one load feeds 4 FMAs instead of 1); smaller planes, and the other
      schemes, one filter (block has its rows in its own kernel). (ResNet-32
      channel 0.9, AVX-512, backward-weight per step with 4 filters against
      one: 32x32 planes 1.38-1.58x faster, 16x16 1.02x, 8x8 0.45x);
    - a padded backward-weight splits the batch into `image_groups` groups
      (the smallest divisor >= 2 of the batch, at most 8) where the partial
      gradients (groups x capacity floats on the calling thread's stack, written
      and read once) are fewer bytes than a second read of the input, which
      the split over filters costs each further thread; else 1 (filters only).

    Why here: the decisions are visible and testable in IR (the lit test checks
    them per target), mest-lower-kernels emits exactly what they say, and the
    scratch they imply is known before memory is planned. Runs after
    mest-plan-storage, before mest-lower-kernels; the steps reach a layer's
    configuration through its symbol.
  }];
  let options = [
    Option<"isa", "isa", "std::string", /*default=*/"\"avx2\"",
           "Target description to use when the module has no mest.target: avx2, "
           "avx512 or neon">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "Floats per vector along output rows; 0: the target's register width">,
    Option<"forwardOrder", "forward-order", "std::string", /*default=*/"\"auto\"",
           "Forward conv loop order: auto (the rule above), weight or output">,
    Option<"convKernels", "conv-kernels", "std::string", /*default=*/"\"auto\"",
           "auto (the rule above), padded (wherever the geometry and the stack "
           "allow) or direct">,
    Option<"tileVectors", "tile-vectors", "int64_t", /*default=*/"0",
           "Output vectors per filter of the padded forward's register tile; "
           "0: the rule above (clamped to the plane and the register budget)">,
    Option<"weightTileFilters", "weight-tile-filters", "int64_t", /*default=*/"0",
           "Filters of the padded backward-weight's register tile on dense and "
           "channel layers; 0: the rule above (a count that does not divide the "
           "filters or exceeds the gradient registers gives 1)">,
    Option<"weightSplit", "weight-split", "std::string", /*default=*/"\"auto\"",
           "Padded backward-weight work split: auto (the rule above), filters, or "
           "images (image groups wherever the batch has a divisor <= 8)">,
  ];
}

def MestLowerKernels : Pass<"mest-lower-kernels", "::mlir::ModuleOp"> {
  let summary = "Lower the planned steps to specialised loops, vectors and runtime calls";
  let description = [{
    Needs: the storage plan (mest-plan-storage), a `#mest.kernel` configuration
    on every conv2d and linear layer (mest-configure-kernels; a layer without
    one is an error), the train and eval steps (mest-generate-backward) with
    their kernels formed (mest-form-kernels; a conv2d or linear op left in a
    step is an error) and their arena plan (mest-plan-memory).

    Establishes: the C ABI of docs/abi.md: each step becomes a function over two
    byte buffers (the state block and the arena) and caller-owned inputs and
    outputs, plus `mest_model_after_mutation`; the model and step functions are
    erased. Convolution and linear layers become kernels specialised on their
    shapes (constants), their scheme, the pattern library, their storage
    layout and their configuration; a kernel takes its layer's block of the
    state, so layers equal in all of these share one. The configuration is
    emitted as recorded: padded or direct per
    direction, the forward loop order, the vector width and the register
    budgets, with the epilogues and prologues the formed kernels carry
    (statistics, `bn_relu` input, gradient sums). Forward, backward-data and
    backward-weight with fused SGD, parallel (`scf.parallel`) over the batch
    or over filters in the load-balanced order. Batch norm (with its residual,
    ReLU, statistics and ReLU-mask operands), global average pooling, the loss,
    ReLU, add, reshape and SGD are generated kernels too; windowed max and
    average pooling call the runtime (runtime/abi/StepKernels.cpp). The pass
    fuses nothing on its own: what runs together is what mest-form-kernels
    formed.

    Why last among the mest passes: it consumes every plan; what follows is
    upstream lowering to the LLVM dialect (the mest-lower-to-llvm pipeline).
  }];
  let options = [
    Option<"exportKernels", "export-kernels", "bool", /*default=*/"false",
           "Give each layer kernel public C linkage (mest_kernel_<layer>_<fwd|bwd_data|"
           "bwd_weight>) so tests can call it directly">,
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect",
                           "::mlir::func::FuncDialect", "::mlir::math::MathDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

#endif // MEST_PASSES_TD
