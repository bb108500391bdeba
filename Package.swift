// swift-tools-version:6.1
import PackageDescription
import Foundation

// Herz: an L7 edge proxy. Layering (see docs/architecture.md):
//   executables → HerzHTTP (SwiftNIO adapters) → HerzCore (pure state machines, no sockets).
//
// HERZ_CORE_ONLY=1 builds just HerzCore, HerzCoproc, the coprocessor filter and SDK, the Swift
// coprocessors and their unit tests (no TLS, no HTTP/2): a fast inner loop for work on the pure
// state machines, the coprocessor runtime and the coprocessors. CI and users never set it.
let coreOnly = ProcessInfo.processInfo.environment["HERZ_CORE_ONLY"] != nil

// Release builds of the per-request code skip Swift's dynamic exclusivity checks (every access to a
// class property or global records itself in a per-thread set: ~1 % of a proxied request's CPU
// in `perf`). Debug builds and the tests keep them, so violations still trap there. Unsafe flags
// are allowed for the root package and for local (path) dependencies such as Benchmarks/.
let hotPathSettings: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

var targets: [Target] = [
    .target(
        name: "HerzCore",
        dependencies: [
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Yams", package: "Yams"),
        ],
        swiftSettings: hotPathSettings
    ),
    .testTarget(name: "HerzCoreTests", dependencies: ["HerzCore"]),
    // Cap'n Proto code generated from schemas/ (scripts/gen-capnp-cpp) behind a plain-C shim.
    .target(
        name: "CHerzCapnp",
        linkerSettings: [.linkedLibrary("capnp"), .linkedLibrary("kj")]
    ),
    // Thin C shims (memfd, SCM_RIGHTS, SO_PEERCRED, atomics on shared memory) and libzmq.
    .target(name: "CHerzSys"),
    .systemLibrary(name: "CZeroMQ"),
    // Coprocessor runtime shared by the kernel and the Swift coprocessor SDK: Cap'n Proto frames,
    // shared-memory rings, ZeroMQ control, supervision state machines.
    .target(
        name: "HerzCoproc",
        dependencies: [
            "CHerzCapnp", "CHerzSys", "CZeroMQ",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]
    ),
    .testTarget(name: "HerzCoprocTests", dependencies: ["HerzCoproc"]),
    // The kernel's generic `coproc` HTTP filter: filter-chain events ↔ coprocessor calls, through a
    // dispatcher protocol the kernel implements (no transport here).
    .target(
        name: "HerzCoprocFilter",
        dependencies: [
            "HerzCore", "HerzCoproc",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]
    ),
    .testTarget(name: "HerzCoprocFilterTests", dependencies: ["HerzCoprocFilter", "HerzCore", "HerzCoproc"]),
    // The Swift coprocessor SDK (docs/coprocessor-protocol.md, coprocessor side) and its example.
    .target(
        name: "HerzCoprocSDK",
        dependencies: [
            "HerzCoproc",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Atomics", package: "swift-atomics"),
        ]
    ),
    .executableTarget(name: "herz-coproc-swift-example", dependencies: ["HerzCoprocSDK"]),
    .testTarget(name: "HerzCoprocSDKTests", dependencies: ["HerzCoprocSDK", .product(name: "NIOCore", package: "swift-nio")]),
    // herz-aesgcm (Coprocessors/aesgcm): streamed AES-GCM encryption of bodies, headers and cookies
    // (docs/aes-gcm-format.md). HerzAESGCM holds everything testable; the executable parses
    // arguments and runs the server or the seal/open command-line modes.
    .target(
        name: "HerzAESGCM",
        dependencies: [
            "HerzCoprocSDK",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
        ],
        path: "Coprocessors/aesgcm/HerzAESGCM"
    ),
    .executableTarget(
        name: "herz-aesgcm",
        dependencies: [
            "HerzAESGCM", "HerzCoprocSDK",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ],
        path: "Coprocessors/aesgcm/herz-aesgcm"
    ),
    .testTarget(name: "HerzAESGCMTests", dependencies: ["HerzAESGCM", "HerzCoprocSDK", .product(name: "Crypto", package: "swift-crypto"),
                                                        .product(name: "NIOCore", package: "swift-nio")]),
    // herz-jwt (Coprocessors/jwt): JWS verification with swift-crypto behind the `jwt_authn` filter.
    // HerzJWT holds everything testable; the executable only parses arguments and runs the server.
    .target(
        name: "HerzJWT",
        dependencies: [
            "HerzCoprocSDK",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
            .product(name: "Logging", package: "swift-log"),
        ],
        path: "Coprocessors/jwt/HerzJWT"
    ),
    .executableTarget(
        name: "herz-jwt",
        dependencies: ["HerzJWT", "HerzCoprocSDK", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Coprocessors/jwt/herz-jwt"
    ),
    .testTarget(name: "HerzJWTTests", dependencies: ["HerzJWT", "HerzCoprocSDK", "HerzCore",
                                                     .product(name: "NIOCore", package: "swift-nio"),
                                                     .product(name: "Crypto", package: "swift-crypto"),
                                                     .product(name: "_CryptoExtras", package: "swift-crypto")]),
]

if !coreOnly {
    targets += [
        // QUIC + HTTP/3 (docs/http3.md): ngtcp2 0.12 + GnuTLS + nghttp3 0.8 behind a thin C shim
        // (versioned macros Swift cannot import, the GnuTLS session recipe); HerzQUIC holds the
        // connection and HTTP/3 session glue over NIO datagram channels, knowing nothing of proxying.
        .target(
            name: "CHerzQUIC",
            linkerSettings: [.linkedLibrary("ngtcp2"), .linkedLibrary("ngtcp2_crypto_gnutls"),
                             .linkedLibrary("nghttp3"), .linkedLibrary("gnutls")]
        ),
        .target(
            name: "HerzQUIC",
            dependencies: [
                "CHerzQUIC", "HerzCore",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HerzHTTP",
            dependencies: [
                "HerzCore", "HerzCoproc", "HerzCoprocFilter", "HerzQUIC",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            swiftSettings: hotPathSettings
        ),
        .executableTarget(
            name: "herz-kernel",
            dependencies: [
                "HerzHTTP", "HerzCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "herzctl",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "herz-demo-upstream",
            dependencies: [
                "HerzCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            ]
        ),
        // bench/coproc: coprocessor call round trip, in-process vs unix socket vs the kernel's rings;
        // bench/crypto: herz-aesgcm and herz-jwt through the same kernel client.
        .executableTarget(
            name: "herz-coproc-bench",
            dependencies: [
                "HerzHTTP", "HerzCore", "HerzCoproc", "HerzCoprocFilter", "HerzCoprocSDK", "CHerzSys", "HerzAESGCM",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "HerzQUICTests", dependencies: ["HerzQUIC", "CHerzQUIC", .product(name: "NIOCore", package: "swift-nio")]),
        .testTarget(
            name: "HerzHTTPTests",
            dependencies: [
                "HerzHTTP", "HerzCore",
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
            ]
        ),
    ]
}

let package = Package(
    name: "Herz",
    platforms: [.macOS(.v15)],
    products: coreOnly ? [.library(name: "HerzCore", targets: ["HerzCore"]), .library(name: "HerzCoprocSDK", targets: ["HerzCoprocSDK"]),
                          .library(name: "HerzJWT", targets: ["HerzJWT"])] : [
        .library(name: "HerzCore", targets: ["HerzCore"]),
        .library(name: "HerzCoprocSDK", targets: ["HerzCoprocSDK"]),
        .library(name: "HerzJWT", targets: ["HerzJWT"]),
        .executable(name: "herz-coproc-swift-example", targets: ["herz-coproc-swift-example"]),
        .executable(name: "herz-aesgcm", targets: ["herz-aesgcm"]),
        .executable(name: "herz-jwt", targets: ["herz-jwt"]),
        .library(name: "HerzCoproc", targets: ["HerzCoproc"]),
        .executable(name: "herz-kernel", targets: ["herz-kernel"]),
        .executable(name: "herzctl", targets: ["herzctl"]),
        .executable(name: "herz-demo-upstream", targets: ["herz-demo-upstream"]),
        .executable(name: "herz-coproc-bench", targets: ["herz-coproc-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-atomics.git", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // 3.x and 4.x offer the same Crypto / _CryptoExtras API herz-jwt uses.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ] + (coreOnly ? [] : [
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ]),
    targets: targets,
    swiftLanguageModes: [.v5],
    cxxLanguageStandard: .cxx17
)
