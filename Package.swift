// swift-tools-version:6.0
import PackageDescription

// OpenMP from Debian's libomp-dev (llvm-14); scripts/setup.sh installs it.
let ompInclude = "/usr/lib/llvm-14/lib/clang/14.0.6/include"
let ompLib = "/usr/lib/llvm-14/lib"

let package = Package(
    name: "NeuroXbar",
    products: [
        .executable(name: "xbar", targets: ["xbar"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // Shared foundations: errors, deterministic RNG, fixed-point arithmetic, atomic files.
        .target(name: "XbarCore", dependencies: ["CCrypto"]),
        // OpenSSL's libcrypto (Debian libssl-dev): SHA-256.
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto"),
        // Stage 0 inputs.
        .target(name: "XbarGraph", dependencies: ["XbarCore"]),
        .target(name: "XbarTarget", dependencies: ["XbarCore", "TOMLKit"]),
        .target(name: "XbarEvents", dependencies: ["XbarCore"]),
        // The contract.
        .target(name: "XbarIR", dependencies: ["XbarCore"]),
        // Cell physics: forming, programming, faults, relaxation, IR drop, read and ADC noise (seeded).
        .target(name: "XbarDevice", dependencies: ["XbarCore", "XbarTarget", "XbarIR", "CXbarKernel"]),
        // Graph + target -> IR.
        .target(name: "XbarCompiler", dependencies: ["XbarCore", "XbarGraph", "XbarTarget", "XbarIR", "XbarDevice", "CMETIS"]),
        // METIS (Debian libmetis-dev) for the placement pass's graph partitioning.
        .systemLibrary(name: "CMETIS", path: "Sources/CMETIS"),
        // Native kernels.
        .target(
            name: "CXbarKernel",
            // -ffp-contract=off: no fused multiply-add, so the run-time normals (xbar_noise.c) are the same bits everywhere;
            // -fno-math-errno lets sqrt vectorise (the result is IEEE sqrt either way).
            cSettings: [.unsafeFlags(["-fopenmp", "-I\(ompInclude)", "-O3", "-ffp-contract=off", "-fno-math-errno", "-mprefer-vector-width=512"])],
            linkerSettings: [
                .unsafeFlags(["-L\(ompLib)", "-Xlinker", "-rpath", "-Xlinker", ompLib]),
                .linkedLibrary("omp"),
            ]
        ),
        .systemLibrary(name: "CGMP", path: "Sources/CGMP"),
        // LAPACK/BLAS (Debian liblapacke-dev, liblapack-dev, libblas-dev) for readout training.
        .systemLibrary(name: "CLAPACK", path: "Sources/CLAPACK"),
        // libhdf5 (Debian libhdf5-dev) for reading NIR files.
        .systemLibrary(name: "CHDF5", path: "Sources/CHDF5"),
        // NIR (.nir, HDF5) reader and importer to the graph format (docs/nir.md).
        .target(name: "XbarNIR", dependencies: ["XbarCore", "XbarGraph", "XbarEvents", "CHDF5"]),
        // IR -> results.
        .target(name: "XbarEmulator", dependencies: ["XbarCore", "XbarIR", "XbarEvents", "XbarTarget", "XbarDevice", "CXbarKernel", "CGMP"],
                swiftSettings: [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]),
        // Energy, latency, throughput and area from action counts (docs/energy.md).
        .target(name: "XbarCost", dependencies: ["XbarIR", "XbarTarget", "XbarEmulator"]),
        // Test vectors for RTL and silicon: program image, stimulus, expected response, manifest, VCD (docs/vectors.md).
        .target(name: "XbarVectors", dependencies: ["XbarCore", "XbarIR", "XbarEvents", "XbarTarget", "XbarEmulator"]),
        // Readout training, float twins of the LSM, saccade event data, the experiment driver (docs/experiment.md).
        .target(name: "XbarLearn", dependencies: ["XbarCore", "XbarGraph", "XbarTarget", "XbarEvents", "XbarIR", "XbarCompiler", "XbarEmulator", "XbarCost", "CLAPACK"]),
        // Design-space sweeps: spec, sampling, resumable/sharded runs, merge, Pareto, plots (docs/sweep.md).
        .target(name: "XbarSweep", dependencies: ["XbarCore", "XbarGraph", "XbarTarget", "XbarEvents", "XbarIR", "XbarCompiler",
                                                  "XbarEmulator", "XbarCost", "XbarLearn", "TOMLKit"]),
        .executableTarget(
            name: "xbar",
            dependencies: [
                "XbarCore", "XbarGraph", "XbarTarget", "XbarEvents", "XbarIR", "XbarCompiler", "XbarEmulator", "XbarDevice", "XbarLearn", "XbarCost", "XbarVectors", "XbarSweep", "XbarNIR",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // In-process fuzz targets of every reader (docs/fuzzing.md; scripts/fuzz.sh builds them with libFuzzer).
        .target(name: "CXbarFuzz"),
        .executableTarget(
            name: "xbar-fuzz",
            dependencies: ["CXbarFuzz", "XbarCore", "XbarGraph", "XbarTarget", "XbarEvents", "XbarIR", "XbarNIR", "XbarSweep"]
        ),
        .testTarget(
            name: "XbarTests",
            dependencies: ["XbarCore", "XbarGraph", "XbarTarget", "XbarEvents", "XbarIR", "XbarCompiler", "XbarEmulator", "XbarDevice", "XbarLearn", "XbarCost", "XbarVectors", "XbarSweep", "XbarNIR"]
        ),
    ]
)
