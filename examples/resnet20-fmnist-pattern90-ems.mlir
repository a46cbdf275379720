module {
  func.func @resnet20(%arg0: tensor<64x1x28x28xf32>) -> tensor<64x10xf32> attributes {mest.model} {
    %0 = mest.conv2d @conv1(%arg0) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>} : tensor<64x1x28x28xf32> -> tensor<64x16x28x28xf32>
    %1 = mest.batch_norm @bn1(%0) : tensor<64x16x28x28xf32>
    %2 = mest.relu %1 : tensor<64x16x28x28xf32>
    %3 = mest.conv2d @layer1.0.conv1(%2) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %4 = mest.batch_norm @layer1.0.bn1(%3) : tensor<64x16x28x28xf32>
    %5 = mest.relu %4 : tensor<64x16x28x28xf32>
    %6 = mest.conv2d @layer1.0.conv2(%5) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %7 = mest.batch_norm @layer1.0.bn2(%6) : tensor<64x16x28x28xf32>
    %8 = mest.add %7, %2 : tensor<64x16x28x28xf32>
    %9 = mest.relu %8 : tensor<64x16x28x28xf32>
    %10 = mest.conv2d @layer1.1.conv1(%9) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %11 = mest.batch_norm @layer1.1.bn1(%10) : tensor<64x16x28x28xf32>
    %12 = mest.relu %11 : tensor<64x16x28x28xf32>
    %13 = mest.conv2d @layer1.1.conv2(%12) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %14 = mest.batch_norm @layer1.1.bn2(%13) : tensor<64x16x28x28xf32>
    %15 = mest.add %14, %9 : tensor<64x16x28x28xf32>
    %16 = mest.relu %15 : tensor<64x16x28x28xf32>
    %17 = mest.conv2d @layer1.2.conv1(%16) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %18 = mest.batch_norm @layer1.2.bn1(%17) : tensor<64x16x28x28xf32>
    %19 = mest.relu %18 : tensor<64x16x28x28xf32>
    %20 = mest.conv2d @layer1.2.conv2(%19) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x16x28x28xf32> -> tensor<64x16x28x28xf32>
    %21 = mest.batch_norm @layer1.2.bn2(%20) : tensor<64x16x28x28xf32>
    %22 = mest.add %21, %16 : tensor<64x16x28x28xf32>
    %23 = mest.relu %22 : tensor<64x16x28x28xf32>
    %24 = mest.conv2d @layer2.0.conv1(%23) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>, stride = array<i64: 2, 2>} : tensor<64x16x28x28xf32> -> tensor<64x32x14x14xf32>
    %25 = mest.batch_norm @layer2.0.bn1(%24) : tensor<64x32x14x14xf32>
    %26 = mest.relu %25 : tensor<64x32x14x14xf32>
    %27 = mest.conv2d @layer2.0.conv2(%26) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x32x14x14xf32> -> tensor<64x32x14x14xf32>
    %28 = mest.batch_norm @layer2.0.bn2(%27) : tensor<64x32x14x14xf32>
    %29 = mest.conv2d @layer2.0.shortcut.conv(%23) {kernel = array<i64: 1, 1>, out_channels = 32 : i64, stride = array<i64: 2, 2>} : tensor<64x16x28x28xf32> -> tensor<64x32x14x14xf32>
    %30 = mest.batch_norm @layer2.0.shortcut.bn(%29) : tensor<64x32x14x14xf32>
    %31 = mest.add %28, %30 : tensor<64x32x14x14xf32>
    %32 = mest.relu %31 : tensor<64x32x14x14xf32>
    %33 = mest.conv2d @layer2.1.conv1(%32) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x32x14x14xf32> -> tensor<64x32x14x14xf32>
    %34 = mest.batch_norm @layer2.1.bn1(%33) : tensor<64x32x14x14xf32>
    %35 = mest.relu %34 : tensor<64x32x14x14xf32>
    %36 = mest.conv2d @layer2.1.conv2(%35) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x32x14x14xf32> -> tensor<64x32x14x14xf32>
    %37 = mest.batch_norm @layer2.1.bn2(%36) : tensor<64x32x14x14xf32>
    %38 = mest.add %37, %32 : tensor<64x32x14x14xf32>
    %39 = mest.relu %38 : tensor<64x32x14x14xf32>
    %40 = mest.conv2d @layer2.2.conv1(%39) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x32x14x14xf32> -> tensor<64x32x14x14xf32>
    %41 = mest.batch_norm @layer2.2.bn1(%40) : tensor<64x32x14x14xf32>
    %42 = mest.relu %41 : tensor<64x32x14x14xf32>
    %43 = mest.conv2d @layer2.2.conv2(%42) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x32x14x14xf32> -> tensor<64x32x14x14xf32>
    %44 = mest.batch_norm @layer2.2.bn2(%43) : tensor<64x32x14x14xf32>
    %45 = mest.add %44, %39 : tensor<64x32x14x14xf32>
    %46 = mest.relu %45 : tensor<64x32x14x14xf32>
    %47 = mest.conv2d @layer3.0.conv1(%46) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>, stride = array<i64: 2, 2>} : tensor<64x32x14x14xf32> -> tensor<64x64x7x7xf32>
    %48 = mest.batch_norm @layer3.0.bn1(%47) : tensor<64x64x7x7xf32>
    %49 = mest.relu %48 : tensor<64x64x7x7xf32>
    %50 = mest.conv2d @layer3.0.conv2(%49) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x64x7x7xf32> -> tensor<64x64x7x7xf32>
    %51 = mest.batch_norm @layer3.0.bn2(%50) : tensor<64x64x7x7xf32>
    %52 = mest.conv2d @layer3.0.shortcut.conv(%46) {kernel = array<i64: 1, 1>, out_channels = 64 : i64, stride = array<i64: 2, 2>} : tensor<64x32x14x14xf32> -> tensor<64x64x7x7xf32>
    %53 = mest.batch_norm @layer3.0.shortcut.bn(%52) : tensor<64x64x7x7xf32>
    %54 = mest.add %51, %53 : tensor<64x64x7x7xf32>
    %55 = mest.relu %54 : tensor<64x64x7x7xf32>
    %56 = mest.conv2d @layer3.1.conv1(%55) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x64x7x7xf32> -> tensor<64x64x7x7xf32>
    %57 = mest.batch_norm @layer3.1.bn1(%56) : tensor<64x64x7x7xf32>
    %58 = mest.relu %57 : tensor<64x64x7x7xf32>
    %59 = mest.conv2d @layer3.1.conv2(%58) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x64x7x7xf32> -> tensor<64x64x7x7xf32>
    %60 = mest.batch_norm @layer3.1.bn2(%59) : tensor<64x64x7x7xf32>
    %61 = mest.add %60, %55 : tensor<64x64x7x7xf32>
    %62 = mest.relu %61 : tensor<64x64x7x7xf32>
    %63 = mest.conv2d @layer3.2.conv1(%62) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x64x7x7xf32> -> tensor<64x64x7x7xf32>
    %64 = mest.batch_norm @layer3.2.bn1(%63) : tensor<64x64x7x7xf32>
    %65 = mest.relu %64 : tensor<64x64x7x7xf32>
    %66 = mest.conv2d @layer3.2.conv2(%65) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<pattern, target = 0.9, capacity = 0.85>} : tensor<64x64x7x7xf32> -> tensor<64x64x7x7xf32>
    %67 = mest.batch_norm @layer3.2.bn2(%66) : tensor<64x64x7x7xf32>
    %68 = mest.add %67, %62 : tensor<64x64x7x7xf32>
    %69 = mest.relu %68 : tensor<64x64x7x7xf32>
    %70 = mest.global_avg_pool2d %69 : tensor<64x64x7x7xf32> -> tensor<64x64xf32>
    %71 = mest.linear @fc(%70) {out_features = 10 : i64} : tensor<64x64xf32> -> tensor<64x10xf32>
    return %71 : tensor<64x10xf32>
  }
}
