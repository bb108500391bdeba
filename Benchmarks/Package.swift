// swift-tools-version:6.1
import PackageDescription

// Micro-benchmarks of Herz's per-request hot path with malloc counts (ordo-one/package-benchmark).
// A separate package so the main build and CI never compile the benchmark toolchain.
// Run: cd Benchmarks && swift package --disable-sandbox benchmark

// SwiftPM names a path dependency after its directory, so the root package is "main" in one
// checkout and "herz" or "ci" in another: take the name of the directory above this one.
let herz = String(Context.packageDirectory.split(separator: "/").dropLast().last ?? "main")

let package = Package(
    name: "HerzBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/package-benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "HotPath",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "HerzCore", package: herz),
            ],
            path: "Benchmarks/HotPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
        .executableTarget(
            name: "JWTVerify",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "HerzJWT", package: herz),
            ],
            path: "Benchmarks/JWTVerify",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
