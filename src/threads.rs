//! How many CPU threads training and prediction use (`--threads N`).

/// Sets the thread count of every pool the CPU backends use: rayon's global pool (flex's
/// operations, gemm's products, the CPU kernels) and matrixmultiply's (ndarray's products).
/// Call it first thing, before any tensor work, while the process has one thread.
pub fn set(threads: usize) {
    // SAFETY: called from `main` before any other thread exists, so nothing reads the
    // environment while it changes. matrixmultiply reads the variable once, on first use.
    unsafe { std::env::set_var("MATMUL_NUM_THREADS", threads.to_string()) };
    // Fails only when the pool already exists, which `main` rules out.
    let _ = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global();
}
