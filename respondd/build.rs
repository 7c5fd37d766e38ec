//! In an OpenWrt build, libjson-c lives in the staging dir, which the cross
//! linker does not search by itself; point it there without touching
//! RUSTFLAGS (the packages feed sets those for the target).
fn main() {
    println!("cargo:rerun-if-env-changed=STAGING_DIR");
    if let Ok(staging) = std::env::var("STAGING_DIR") {
        println!("cargo:rustc-link-search=native={staging}/usr/lib");
    }
}
