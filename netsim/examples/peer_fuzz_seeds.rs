//! Writes the seed corpora of the `peer_core` and `peer_cli` fuzz targets
//! (`fuzz/corpus/peer_core/seed_*`, `fuzz/corpus/peer_cli/seed_*`) from
//! the programs in `netsim::fuzzing::peer`:
//!
//! ```sh
//! cargo run -p netsim --example peer_fuzz_seeds
//! ```
//!
//! `tests/tests/fuzz_corpus_peer.rs` checks that the committed files are
//! these programs.

use std::path::Path;

use netsim::fuzzing::peer as fuzzing;

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let core = root.join("peer_core");
    std::fs::create_dir_all(&core)?;
    for (name, program) in fuzzing::core_seeds() {
        std::fs::write(core.join(name), program.encode())?;
    }
    let cli = root.join("peer_cli");
    std::fs::create_dir_all(&cli)?;
    for (name, bytes) in fuzzing::cli_seeds() {
        std::fs::write(cli.join(name), bytes)?;
    }
    Ok(())
}
