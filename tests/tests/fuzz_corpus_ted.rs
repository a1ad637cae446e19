//! Replays the committed fuzz corpora of the `ted` targets through the same
//! functions the fuzz targets call (`netsim::fuzzing`), so that every corpus
//! input stays a regression test under `cargo test`.

// A failed replay is a test failure.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

mod fuzz_common;
use fuzz_common::corpus;

#[test]
fn ted_ios_roundtrip_corpus() {
    let files = corpus("ted_ios_roundtrip");
    let mut imported = 0;
    for (path, data) in &files {
        eprintln!("{}", path.display());
        netsim::fuzzing::ios_roundtrip(data);
        let text = std::str::from_utf8(data).unwrap_or("");
        if ted::config::ios::parse(text).is_ok() {
            imported += 1;
        }
    }
    // The seeds are valid configurations: they reach the round trip itself.
    assert!(
        imported >= 9,
        "only {imported} of {} corpus files import",
        files.len()
    );
}

#[test]
fn user_db_corpus() {
    let mut users = 0;
    for (path, data) in corpus("user_db") {
        eprintln!("{}", path.display());
        users += netsim::fuzzing::user_db(&data);
    }
    // The seed file's users are read (the replay reaches the checks on
    // accepted files, not only refusals).
    assert!(users >= 3, "only {users} users read from the corpus");
}

#[test]
fn ted_acl_mirror_corpus() {
    for (path, data) in corpus("ted_acl_mirror") {
        eprintln!("{}", path.display());
        netsim::fuzzing::acl_mirror(&data);
    }
}

#[test]
fn ted_discovery_corpus() {
    use ted::discovery::{ProbeDropReason, ResponseDropReason};
    let mut runs = Vec::new();
    for (path, data) in corpus("ted_discovery") {
        eprintln!("{}", path.display());
        runs.push(netsim::fuzzing::discovery_run(&data));
    }
    let total = |f: &dyn Fn(&netsim::fuzzing::DiscoveryRun) -> u64| runs.iter().map(f).sum::<u64>();
    // The seeds reach every kind of outcome: discoveries completed and
    // given up, probes answered, rate-limited, forged and not mirrored,
    // responses for nobody, retransmissions, hold-downs, refused cookies.
    assert!(total(&|r| r.initiator.discoveries_completed) >= 2);
    assert!(total(&|r| r.initiator.discoveries_failed) >= 1);
    assert!(total(&|r| r.initiator.probes_retransmitted) >= 1);
    assert!(total(&|r| r.initiator.triggers_held_down) >= 1);
    assert!(total(&|r| r.initiator.triggers_pending) >= 1);
    assert!(total(&|r| r.initiator.triggers_refused) >= 1);
    assert!(total(&|r| r.responder.probes_answered) >= 3);
    assert!(total(&|r| r.responder.probes_dropped(ProbeDropReason::RateLimited)) >= 1);
    assert!(
        total(&|r| r
            .responder
            .probes_dropped(ProbeDropReason::NonUnicastAddress))
            >= 1
    );
    assert!(
        total(&|r| r
            .responder
            .probes_dropped(ProbeDropReason::ReflectedAddress))
            >= 1
    );
    assert!(total(&|r| r.responder.probes_dropped(ProbeDropReason::NotMirrored)) >= 1);
    assert!(total(&|r| r.responder.probes_dropped(ProbeDropReason::Malformed)) >= 1);
    assert!(
        total(&|r| r
            .initiator
            .responses_dropped(ResponseDropReason::UnknownCookie))
            >= 1
    );
}

#[test]
fn ted_gateway_corpus() {
    let mut runs = Vec::new();
    for (path, data) in corpus("ted_gateway") {
        eprintln!("{}", path.display());
        runs.push(netsim::fuzzing::gateway_run(&data));
    }
    let total = |f: &dyn Fn(&netsim::fuzzing::GatewayRun) -> u64| runs.iter().map(f).sum::<u64>();
    // The seeds reach every part of the story: tunnels up on both sides
    // (fred initiating too), traffic through them, corrupted and replayed
    // ESP refused, forged probes and responses, clear text from outside
    // dropped, tunnels cleared and rediscovered, expired by lifetime and
    // in the final silence.
    assert!(total(&|r| r.daphne.tunnels_installed) >= 10);
    assert!(total(&|r| r.fred_ted.discoveries_completed) >= 1);
    assert!(total(&|r| r.daphne_ted.discoveries_completed) >= 10);
    assert!(total(&|r| r.fred_ted.probes_answered) >= 10);
    assert!(total(&|r| r.decrypted) >= 40);
    assert!(total(&|r| r.corrupted_esp_delivered) >= 1);
    assert!(total(&|r| r.replayed_esp_delivered) >= 1);
    assert!(total(&|r| r.fred.esp_refused + r.daphne.esp_refused) >= 3);
    assert!(total(&|r| r.daphne.esp_unknown_spi + r.fred.esp_unknown_spi) >= 1);
    assert!(total(&|r| r.forged_probes) >= 4);
    assert!(total(&|r| r.fred_ted.probes_dropped_total()) >= 3);
    assert!(total(&|r| r.forged_responses) >= 2);
    assert!(total(&|r| r.daphne_ted.probes_retransmitted) >= 1);
    assert!(total(&|r| r.daphne.outside_cleartext_dropped) >= 2);
    assert!(total(&|r| r.daphne.tunnels_removed + r.fred.tunnels_removed) >= 2);
    assert!(total(&|r| r.daphne.map_entries_removed) >= 1);
    assert!(total(&|r| r.tunnels_expired_in_silence) >= 10);
}
