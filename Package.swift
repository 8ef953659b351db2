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
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .target(name: "Kernels", dependencies: ["COpenBLAS"]),
        .target(name: "Runtime", dependencies: ["Kernels"]),
        .target(name: "Tasks", dependencies: ["Runtime"]),
        .executableTarget(
            name: "bip",
            dependencies: [
                "Runtime",
                "Tasks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks"]),
    ],
    swiftLanguageModes: [.v5]
)
