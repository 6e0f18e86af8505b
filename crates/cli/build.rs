// `xn_postgres` is set when the tests are built with XIAONENG_TEST_POSTGRES_URL: without it the
// PostgreSQL tests are reported as ignored, not passed.
fn main() {
    println!("cargo::rustc-check-cfg=cfg(xn_postgres)");
    println!("cargo:rerun-if-env-changed=XIAONENG_TEST_POSTGRES_URL");
    if std::env::var("XIAONENG_TEST_POSTGRES_URL").is_ok_and(|u| !u.is_empty()) {
        println!("cargo:rustc-cfg=xn_postgres");
    }
}
