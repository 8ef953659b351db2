// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "bip",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "bip", targets: ["bip"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // oneDNN's BF16 matmul (Debian's libdnnl-dev has no pkg-config file; the module map links dnnl).
        .systemLibrary(
            name: "COneDNN",
            providers: [.apt(["libdnnl-dev"])]
        ),
        // The vector loops of RowOps, compiled for several x86-64 levels and chosen at load time.
        .target(name: "CRowKernels"),
        .target(name: "Kernels", dependencies: ["COpenBLAS", "COneDNN", "CRowKernels"]),
        .target(name: "Runtime", dependencies: ["Kernels"]),
        .target(name: "Tasks", dependencies: ["Runtime"]),
        .target(name: "Gradients", dependencies: ["Kernels", "Runtime"]),
        .target(name: "BIP", dependencies: ["Runtime", "Tasks", "Gradients"]),
        .target(name: "Harness", dependencies: ["Runtime", "Tasks", "BIP", "Gradients", .product(name: "GRDB", package: "GRDB.swift"),
                                    .product(name: "PostgresNIO", package: "postgres-nio")],
                plugins: ["BuildCommit"]),
        // Writes the git commit of the sources into the Harness module at build time (`BuildInfo.commit`).
        .plugin(name: "BuildCommit", capability: .buildTool()),
        .executableTarget(
            name: "bip",
            dependencies: [
                "Runtime",
                "Tasks",
                "BIP",
                "Harness",
                "Gradients",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .target(name: "TestSupport", dependencies: ["Runtime", "Gradients", "BIP", .product(name: "PostgresNIO", package: "postgres-nio")], path: "Tests/TestSupport"),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "TestSupport"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "TestSupport"]),
        .testTarget(name: "GradientsTests", dependencies: ["Gradients", "TestSupport"]),
        .testTarget(name: "BIPTests", dependencies: ["BIP", "Gradients", "TestSupport"]),
        .testTarget(name: "HarnessTests", dependencies: ["Harness", "TestSupport"], exclude: ["Fixtures"]),
        .testTarget(name: "CommandTests", dependencies: ["bip", "Harness", "TestSupport"]),
        // The tests that need the downloaded models (`bip models fetch smollm2-135m`, `qwen2.5-0.5b`):
        // exactness against the shared fixtures and the real models' numbers. The targets above
        // run without them, on `TinyModel`.
        .testTarget(name: "RealModelTests", dependencies: ["bip", "Runtime", "Tasks", "BIP", "Gradients", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
