//! Replays the committed fuzz corpora of the `ikev1-peer` targets
//! (`peer_core`, `peer_cli`) through the same functions the fuzz targets
//! call (`netsim::fuzzing::peer`), so that every corpus input stays a
//! regression test under `cargo test`.

// A failed replay is a test failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod fuzz_common;
use fuzz_common::corpus;

use std::path::Path;

use netsim::fuzzing::peer::{self as fuzzing, CoreRun};

fn file_name(path: &Path) -> &str {
    path.file_name().and_then(|n| n.to_str()).unwrap_or("")
}

#[test]
fn peer_core_seeds_are_the_programs() {
    // The committed seeds are what `peer_fuzz_seeds` writes: a change to the
    // program format must regenerate them.
    let files = corpus("peer_core");
    for (name, program) in fuzzing::core_seeds() {
        let (_, data) = files
            .iter()
            .find(|(p, _)| file_name(p) == name)
            .unwrap_or_else(|| panic!("seed {name} is not in the corpus"));
        assert_eq!(data, &program.encode(), "seed {name} is stale");
    }
}

#[test]
fn peer_core_corpus() {
    let mut runs: Vec<(String, CoreRun)> = Vec::new();
    for (path, data) in corpus("peer_core") {
        eprintln!("{}", path.display());
        let run = fuzzing::core_run(&data);
        eprintln!("  {run:?}");
        runs.push((file_name(&path).to_owned(), run));
    }
    let seed = |name: &str| {
        runs.iter()
            .find(|(n, _)| n == name)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no seed {name}"))
    };
    // The seed's story on the two cores: TED (a probe crosses), Main Mode
    // and Quick Mode on both (phase1_up and phase2_up written by each),
    // the pings decrypted on the far side, every command answered,
    // shutdown with Delete notifies to an established peer, and fred's
    // traffic afterwards reaching a router that stopped.
    let s = seed("seed_exchange_shutdown");
    assert!(s.ted_probes >= 1, "{s:?}");
    assert!(s.phase1_up >= 2 && s.phase2_up >= 2, "{s:?}");
    assert!(s.tunnels_installed >= 2, "{s:?}");
    assert!(s.decrypted >= 3, "{s:?}");
    assert_eq!(s.commands_ok, 5, "{s:?}");
    assert_eq!(s.shutdowns_with_deletes, 1, "{s:?}");
    assert!(s.datagrams_after_shutdown >= 1, "{s:?}");
    // Replayed ESP is refused (the driver also asserts that nothing
    // decrypts twice and that corrupted ESP never decrypts), yet the
    // intact traffic still goes through.
    let r = seed("seed_replays");
    assert!(r.esp_refused >= 2, "{r:?}");
    assert!(r.decrypted >= 4, "{r:?}");
    // After expiry and a seven-year jump the routers negotiate again.
    let t = seed("seed_time");
    assert!(t.tunnels_installed >= 4, "{t:?}");
    assert!(t.phase1_up >= 4, "{t:?}");
    let c = seed("seed_commands");
    // Known commands with stray words and arbitrary lines are refused,
    // the clean ones answered.
    assert!(c.commands_ok >= 2 && c.commands_refused >= 4, "{c:?}");
}

#[test]
fn peer_cli_corpus() {
    for (path, data) in corpus("peer_cli") {
        eprintln!("{}", path.display());
        fuzzing::cli(&data);
    }
}
