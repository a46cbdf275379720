module {
  func.func @resnet32(%arg0: tensor<64x3x32x32xf32>) -> tensor<64x10xf32> attributes {mest.model} {
    %0 = mest.conv2d @conv1(%arg0) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>} : tensor<64x3x32x32xf32> -> tensor<64x16x32x32xf32>
    %1 = mest.batch_norm @bn1(%0) : tensor<64x16x32x32xf32>
    %2 = mest.relu %1 : tensor<64x16x32x32xf32>
    %3 = mest.conv2d @layer1.0.conv1(%2) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %4 = mest.batch_norm @layer1.0.bn1(%3) : tensor<64x16x32x32xf32>
    %5 = mest.relu %4 : tensor<64x16x32x32xf32>
    %6 = mest.conv2d @layer1.0.conv2(%5) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %7 = mest.batch_norm @layer1.0.bn2(%6) : tensor<64x16x32x32xf32>
    %8 = mest.add %7, %2 : tensor<64x16x32x32xf32>
    %9 = mest.relu %8 : tensor<64x16x32x32xf32>
    %10 = mest.conv2d @layer1.1.conv1(%9) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %11 = mest.batch_norm @layer1.1.bn1(%10) : tensor<64x16x32x32xf32>
    %12 = mest.relu %11 : tensor<64x16x32x32xf32>
    %13 = mest.conv2d @layer1.1.conv2(%12) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %14 = mest.batch_norm @layer1.1.bn2(%13) : tensor<64x16x32x32xf32>
    %15 = mest.add %14, %9 : tensor<64x16x32x32xf32>
    %16 = mest.relu %15 : tensor<64x16x32x32xf32>
    %17 = mest.conv2d @layer1.2.conv1(%16) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %18 = mest.batch_norm @layer1.2.bn1(%17) : tensor<64x16x32x32xf32>
    %19 = mest.relu %18 : tensor<64x16x32x32xf32>
    %20 = mest.conv2d @layer1.2.conv2(%19) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %21 = mest.batch_norm @layer1.2.bn2(%20) : tensor<64x16x32x32xf32>
    %22 = mest.add %21, %16 : tensor<64x16x32x32xf32>
    %23 = mest.relu %22 : tensor<64x16x32x32xf32>
    %24 = mest.conv2d @layer1.3.conv1(%23) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %25 = mest.batch_norm @layer1.3.bn1(%24) : tensor<64x16x32x32xf32>
    %26 = mest.relu %25 : tensor<64x16x32x32xf32>
    %27 = mest.conv2d @layer1.3.conv2(%26) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %28 = mest.batch_norm @layer1.3.bn2(%27) : tensor<64x16x32x32xf32>
    %29 = mest.add %28, %23 : tensor<64x16x32x32xf32>
    %30 = mest.relu %29 : tensor<64x16x32x32xf32>
    %31 = mest.conv2d @layer1.4.conv1(%30) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %32 = mest.batch_norm @layer1.4.bn1(%31) : tensor<64x16x32x32xf32>
    %33 = mest.relu %32 : tensor<64x16x32x32xf32>
    %34 = mest.conv2d @layer1.4.conv2(%33) {kernel = array<i64: 3, 3>, out_channels = 16 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x16x32x32xf32> -> tensor<64x16x32x32xf32>
    %35 = mest.batch_norm @layer1.4.bn2(%34) : tensor<64x16x32x32xf32>
    %36 = mest.add %35, %30 : tensor<64x16x32x32xf32>
    %37 = mest.relu %36 : tensor<64x16x32x32xf32>
    %38 = mest.conv2d @layer2.0.conv1(%37) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>, stride = array<i64: 2, 2>} : tensor<64x16x32x32xf32> -> tensor<64x32x16x16xf32>
    %39 = mest.batch_norm @layer2.0.bn1(%38) : tensor<64x32x16x16xf32>
    %40 = mest.relu %39 : tensor<64x32x16x16xf32>
    %41 = mest.conv2d @layer2.0.conv2(%40) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %42 = mest.batch_norm @layer2.0.bn2(%41) : tensor<64x32x16x16xf32>
    %43 = mest.conv2d @layer2.0.shortcut.conv(%37) {kernel = array<i64: 1, 1>, out_channels = 32 : i64, stride = array<i64: 2, 2>} : tensor<64x16x32x32xf32> -> tensor<64x32x16x16xf32>
    %44 = mest.batch_norm @layer2.0.shortcut.bn(%43) : tensor<64x32x16x16xf32>
    %45 = mest.add %42, %44 : tensor<64x32x16x16xf32>
    %46 = mest.relu %45 : tensor<64x32x16x16xf32>
    %47 = mest.conv2d @layer2.1.conv1(%46) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %48 = mest.batch_norm @layer2.1.bn1(%47) : tensor<64x32x16x16xf32>
    %49 = mest.relu %48 : tensor<64x32x16x16xf32>
    %50 = mest.conv2d @layer2.1.conv2(%49) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %51 = mest.batch_norm @layer2.1.bn2(%50) : tensor<64x32x16x16xf32>
    %52 = mest.add %51, %46 : tensor<64x32x16x16xf32>
    %53 = mest.relu %52 : tensor<64x32x16x16xf32>
    %54 = mest.conv2d @layer2.2.conv1(%53) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %55 = mest.batch_norm @layer2.2.bn1(%54) : tensor<64x32x16x16xf32>
    %56 = mest.relu %55 : tensor<64x32x16x16xf32>
    %57 = mest.conv2d @layer2.2.conv2(%56) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %58 = mest.batch_norm @layer2.2.bn2(%57) : tensor<64x32x16x16xf32>
    %59 = mest.add %58, %53 : tensor<64x32x16x16xf32>
    %60 = mest.relu %59 : tensor<64x32x16x16xf32>
    %61 = mest.conv2d @layer2.3.conv1(%60) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %62 = mest.batch_norm @layer2.3.bn1(%61) : tensor<64x32x16x16xf32>
    %63 = mest.relu %62 : tensor<64x32x16x16xf32>
    %64 = mest.conv2d @layer2.3.conv2(%63) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %65 = mest.batch_norm @layer2.3.bn2(%64) : tensor<64x32x16x16xf32>
    %66 = mest.add %65, %60 : tensor<64x32x16x16xf32>
    %67 = mest.relu %66 : tensor<64x32x16x16xf32>
    %68 = mest.conv2d @layer2.4.conv1(%67) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %69 = mest.batch_norm @layer2.4.bn1(%68) : tensor<64x32x16x16xf32>
    %70 = mest.relu %69 : tensor<64x32x16x16xf32>
    %71 = mest.conv2d @layer2.4.conv2(%70) {kernel = array<i64: 3, 3>, out_channels = 32 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x32x16x16xf32> -> tensor<64x32x16x16xf32>
    %72 = mest.batch_norm @layer2.4.bn2(%71) : tensor<64x32x16x16xf32>
    %73 = mest.add %72, %67 : tensor<64x32x16x16xf32>
    %74 = mest.relu %73 : tensor<64x32x16x16xf32>
    %75 = mest.conv2d @layer3.0.conv1(%74) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>, stride = array<i64: 2, 2>} : tensor<64x32x16x16xf32> -> tensor<64x64x8x8xf32>
    %76 = mest.batch_norm @layer3.0.bn1(%75) : tensor<64x64x8x8xf32>
    %77 = mest.relu %76 : tensor<64x64x8x8xf32>
    %78 = mest.conv2d @layer3.0.conv2(%77) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %79 = mest.batch_norm @layer3.0.bn2(%78) : tensor<64x64x8x8xf32>
    %80 = mest.conv2d @layer3.0.shortcut.conv(%74) {kernel = array<i64: 1, 1>, out_channels = 64 : i64, stride = array<i64: 2, 2>} : tensor<64x32x16x16xf32> -> tensor<64x64x8x8xf32>
    %81 = mest.batch_norm @layer3.0.shortcut.bn(%80) : tensor<64x64x8x8xf32>
    %82 = mest.add %79, %81 : tensor<64x64x8x8xf32>
    %83 = mest.relu %82 : tensor<64x64x8x8xf32>
    %84 = mest.conv2d @layer3.1.conv1(%83) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %85 = mest.batch_norm @layer3.1.bn1(%84) : tensor<64x64x8x8xf32>
    %86 = mest.relu %85 : tensor<64x64x8x8xf32>
    %87 = mest.conv2d @layer3.1.conv2(%86) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %88 = mest.batch_norm @layer3.1.bn2(%87) : tensor<64x64x8x8xf32>
    %89 = mest.add %88, %83 : tensor<64x64x8x8xf32>
    %90 = mest.relu %89 : tensor<64x64x8x8xf32>
    %91 = mest.conv2d @layer3.2.conv1(%90) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %92 = mest.batch_norm @layer3.2.bn1(%91) : tensor<64x64x8x8xf32>
    %93 = mest.relu %92 : tensor<64x64x8x8xf32>
    %94 = mest.conv2d @layer3.2.conv2(%93) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %95 = mest.batch_norm @layer3.2.bn2(%94) : tensor<64x64x8x8xf32>
    %96 = mest.add %95, %90 : tensor<64x64x8x8xf32>
    %97 = mest.relu %96 : tensor<64x64x8x8xf32>
    %98 = mest.conv2d @layer3.3.conv1(%97) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %99 = mest.batch_norm @layer3.3.bn1(%98) : tensor<64x64x8x8xf32>
    %100 = mest.relu %99 : tensor<64x64x8x8xf32>
    %101 = mest.conv2d @layer3.3.conv2(%100) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %102 = mest.batch_norm @layer3.3.bn2(%101) : tensor<64x64x8x8xf32>
    %103 = mest.add %102, %97 : tensor<64x64x8x8xf32>
    %104 = mest.relu %103 : tensor<64x64x8x8xf32>
    %105 = mest.conv2d @layer3.4.conv1(%104) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %106 = mest.batch_norm @layer3.4.bn1(%105) : tensor<64x64x8x8xf32>
    %107 = mest.relu %106 : tensor<64x64x8x8xf32>
    %108 = mest.conv2d @layer3.4.conv2(%107) {kernel = array<i64: 3, 3>, out_channels = 64 : i64, padding = array<i64: 1, 1>, sparsity = #mest.sparsity<block, target = 0.9>} : tensor<64x64x8x8xf32> -> tensor<64x64x8x8xf32>
    %109 = mest.batch_norm @layer3.4.bn2(%108) : tensor<64x64x8x8xf32>
    %110 = mest.add %109, %104 : tensor<64x64x8x8xf32>
    %111 = mest.relu %110 : tensor<64x64x8x8xf32>
    %112 = mest.global_avg_pool2d %111 : tensor<64x64x8x8xf32> -> tensor<64x64xf32>
    %113 = mest.linear @fc(%112) {out_features = 10 : i64} : tensor<64x64xf32> -> tensor<64x10xf32>
    return %113 : tensor<64x10xf32>
  }
}
