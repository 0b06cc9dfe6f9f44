//! `passgenau`: the whole command line lives in the server's library
//! (`passgenau_server::cli`); this binary only starts it.

fn main() {
    passgenau_server::cli::main()
}
