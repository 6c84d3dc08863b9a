fn main() {
    capnpc::CompilerCommand::new()
        .src_prefix("../../schema")
        .file("../../schema/slaacd.capnp")
        .run()
        .expect("compiling schema/slaacd.capnp (is the capnp compiler installed? apt-get install capnproto)");
    println!("cargo::rerun-if-changed=../../schema/slaacd.capnp");
}
