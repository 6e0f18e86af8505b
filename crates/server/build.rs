// Re-embed the web application when its build output changes (rust-embed reads web/dist at
// compile time in release builds).
fn main() {
    println!("cargo:rerun-if-changed=../../web/dist");
    println!("cargo:rerun-if-changed=../../web/dist/index.html");
}
