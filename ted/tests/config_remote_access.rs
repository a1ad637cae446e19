//! The Easy VPN server commands: import of a whole server configuration,
//! the lookups the gateway uses, the round trip, the cross-checks with
//! their line numbers, the refusals, and the secrets kept out of `Debug`
//! and redacted renders.

// Test code: a failed expectation panics.
#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::net::Ipv4Addr;

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use ted::acl::AclName;
use ted::config::ios::{
    self, ParseError, ParseErrorKind, ParseOptions, RenderOptions, SkipReason, UnsupportedCrypto,
};
use ted::config::{Credential, DiagnosticKind, Location, ModeCfgDirection, Severity, SplitNetwork};
use ted::remote_access::{AddressPool, HashParams, PoolError, UserDb};

/// The server configuration (shared with the peer crate's tests).
const SERVER: &str = include_str!("data/easyvpn-server.cfg");
const GROUP_KEY: &str = "Ra-Group-Key-9";
const ALICE: &str = "Wonderland-42";
const BOB: &str = "Builder 7 Tools";

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn err(text: &str) -> ParseError {
    match ios::parse(text) {
        Ok(p) => panic!("expected an error, got {:?}", p.config),
        Err(e) => e,
    }
}

fn lenient() -> ParseOptions {
    let mut o = ParseOptions::default();
    o.unsupported_crypto = UnsupportedCrypto::Skip;
    o
}

/// What a refused line's error must be.
type Expect = fn(&ParseErrorKind) -> bool;

/// The line of `SERVER` that starts with `prefix` (1-based).
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|l| l.starts_with(prefix))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("no line starts with {prefix:?}"))
}

/// A minimal valid server around `extra` lines.
fn with(extra: &str) -> String {
    format!(
        "aaa new-model\n\
         aaa authentication login xl local\n\
         aaa authorization network gl local\n\
         crypto isakmp client configuration group g\n \
         key gkey-secret\n \
         pool p\n\
         crypto ipsec transform-set t esp-aes esp-sha-hmac\n\
         crypto dynamic-map d 10\n \
         set transform-set t\n\
         crypto map m client authentication list xl\n\
         crypto map m isakmp authorization list gl\n\
         crypto map m 10 ipsec-isakmp dynamic d\n\
         ip local pool p 10.9.0.1 10.9.0.9\n\
         {extra}"
    )
}

#[test]
fn server_config_imports_checks_clean_and_answers_lookups() {
    let parsed = ios::parse(SERVER).expect("the server configuration imports");
    assert!(parsed.diagnostics.is_empty(), "{:#?}", parsed.diagnostics);
    let c = &parsed.config;
    let ra = &c.remote_access;
    assert!(ra.aaa_new_model);
    assert_eq!(ra.xauth_timeout, 30);
    assert!(ra.has_authentication_list("rauser"));
    assert!(ra.has_authorization_list("ragroup-auth"));

    let g = c.client_group("ragroup").expect("the group");
    assert_eq!(g.key.as_ref().unwrap().as_bytes(), GROUP_KEY.as_bytes());
    assert_eq!(g.dns, [ip("10.0.0.53"), ip("10.0.0.54")]);
    assert_eq!(g.wins, [ip("10.0.0.55")]);
    assert_eq!(g.domain.as_deref(), Some("corp.example"));
    assert_eq!(g.pool.as_deref(), Some("rapool"));
    assert_eq!(g.acl, Some(AclName::Numbered(101)));
    assert!(g.save_password && g.include_local_lan);
    assert!(!g.pfs && !g.firewall_are_u_there);
    assert_eq!(g.backup_gateways, [ip("198.51.100.2")]);
    assert_eq!(g.max_users, Some(40));
    assert_eq!(
        g.banner.as_deref(),
        Some("Welcome to the corp.example VPN.\nAuthorised users only.")
    );
    assert!(c.client_group("RAGROUP").is_none());

    assert_eq!(c.xauth_list_for_map("clientmap"), Some("rauser"));
    assert_eq!(
        c.group_authorization_list_for_map("clientmap"),
        Some("ragroup-auth")
    );
    assert_eq!(
        c.mode_cfg_direction("clientmap"),
        Some(ModeCfgDirection::Respond)
    );
    assert_eq!(c.xauth_list_for_map("othermap"), None);
    assert_eq!(c.mode_cfg_direction("othermap"), None);

    assert_eq!(
        c.split_networks("ragroup"),
        [
            SplitNetwork {
                address: ip("10.0.0.0"),
                mask: ip("255.255.255.0")
            },
            SplitNetwork {
                address: ip("10.1.0.0"),
                mask: ip("255.255.255.0")
            },
        ]
    );
    assert!(c.split_networks("nogroup").is_empty());

    let pool = c.pool("rapool").expect("the pool");
    assert_eq!(pool.ranges().len(), 1);
    assert_eq!(pool.ranges()[0].start(), ip("10.99.0.10"));
    assert_eq!(pool.ranges()[0].end(), ip("10.99.0.50"));
    let mut leases: AddressPool<u64> = pool.address_pool().unwrap();
    assert_eq!(leases.capacity(), 41);
    assert_eq!(leases.lease("alice", 1, None), Ok(ip("10.99.0.10")));

    let users: Vec<(&str, Option<u8>)> = c.local_users().map(|u| (u.name(), u.privilege)).collect();
    assert_eq!(users, [("alice", None), ("bob", Some(15))]);
    // The whole rest of the line is bob's password, blanks included.
    assert_eq!(
        c.remote_access.user("bob").unwrap().xauth_password(),
        Some(BOB.as_bytes())
    );

    // What stays outside the model is listed, as before.
    let skipped: Vec<&str> = parsed.skipped.iter().map(|s| s.text.as_str()).collect();
    assert!(skipped.contains(&"aaa session-id common"), "{skipped:?}");
    assert!(
        skipped.contains(&"login authentication rauser"),
        "{skipped:?}"
    );
}

#[test]
fn server_config_round_trips() {
    let first = ios::parse(SERVER).unwrap();
    let rendered = ios::render(&first.config);
    let second = ios::parse(&rendered).unwrap_or_else(|e| panic!("{e}\n{rendered}"));
    assert_eq!(first.config, second.config, "{rendered}");
    assert_eq!(rendered, ios::render(&second.config));
    assert!(second.diagnostics.is_empty(), "{:#?}", second.diagnostics);
    for line in [
        "aaa new-model",
        "aaa authentication login rauser local",
        "username bob privilege 15 password 0 Builder 7 Tools",
        "crypto isakmp xauth timeout 30",
        "crypto isakmp client configuration group ragroup",
        " key Ra-Group-Key-9",
        " dns 10.0.0.53 10.0.0.54",
        " banner ^CWelcome to the corp.example VPN.",
        "Authorised users only.^C",
        "crypto map clientmap client configuration address respond",
        "ip local pool rapool 10.99.0.10 10.99.0.50",
    ] {
        assert!(
            rendered.lines().any(|l| l == line),
            "{line:?} missing from\n{rendered}"
        );
    }
}

#[test]
fn config_users_join_the_user_database() {
    let parsed = ios::parse(SERVER).unwrap();
    let mut db = UserDb::new();
    let cheap = HashParams {
        memory_kib: 64,
        iterations: 1,
        lanes: 1,
    };
    let added = db
        .add_clear_users(
            clear_users(&parsed.config),
            cheap,
            &mut ChaCha8Rng::seed_from_u64(1),
        )
        .unwrap();
    assert_eq!(added, 2);
    assert!(db.verify("alice", ALICE.as_bytes()));
    assert!(db.verify("bob", BOB.as_bytes()));
    assert!(!db.verify("bob", b"Builder"));
    assert!(!db.verify("alice", BOB.as_bytes()));
    // A user of the same name in the file and the configuration: refused.
    let again = db.add_clear_users(
        clear_users(&parsed.config),
        cheap,
        &mut ChaCha8Rng::seed_from_u64(2),
    );
    assert!(again.is_err());

    // IOS-hashed and type-7 users are left out (and the check says why).
    let text = with(
        "username console secret 5 $1$kQ2v$Y3aF0k8pA6H1xzq0VnJyb/\n\
         username old password 7 0822455D0A16\n\
         username new secret 0 Fresh-Secret-1\n",
    );
    let parsed = ios::parse(&text).unwrap();
    let mut db = UserDb::new();
    let added = db
        .add_clear_users(
            clear_users(&parsed.config),
            cheap,
            &mut ChaCha8Rng::seed_from_u64(3),
        )
        .unwrap();
    assert_eq!(added, 1);
    assert!(db.verify("new", b"Fresh-Secret-1"));
    assert!(!db.contains("console") && !db.contains("old"));
    let refused: Vec<(Location, DiagnosticKind, Option<usize>)> = parsed
        .diagnostics
        .iter()
        .map(|d| (d.location.clone(), d.kind.clone(), d.line))
        .collect();
    assert_eq!(
        refused,
        [
            (
                Location::LocalUser("console".into()),
                DiagnosticKind::UnsupportedCredential { form: "secret 5" },
                Some(line_of(&text, "username console")),
            ),
            (
                Location::LocalUser("old".into()),
                DiagnosticKind::UnsupportedCredential { form: "password 7" },
                Some(line_of(&text, "username old")),
            ),
        ]
    );
    assert!(matches!(
        parsed
            .config
            .remote_access
            .user("console")
            .unwrap()
            .credential,
        Credential::SecretMd5(_)
    ));
    // The refused forms still render back as they came.
    let rendered = ios::render(&parsed.config);
    assert!(rendered.contains("username console secret 5 $1$kQ2v$Y3aF0k8pA6H1xzq0VnJyb/"));
    assert!(rendered.contains("username old password 7 0822455D0A16"));
}

#[test]
fn secrets_stay_out_of_debug_and_redacted_render() {
    let parsed = ios::parse(SERVER).unwrap();
    let shown = format!("{parsed:?} {parsed:#?}");
    for secret in [GROUP_KEY, ALICE, BOB] {
        assert!(!shown.contains(secret), "{secret} in Debug output");
    }
    let mut options = RenderOptions::default();
    options.redact_keys = true;
    let redacted = ios::render_with(&parsed.config, &options);
    for secret in [GROUP_KEY, ALICE, "Builder"] {
        assert!(!redacted.contains(secret), "{secret} in\n{redacted}");
    }
    assert!(redacted.contains(" key <redacted>\n"));
    assert!(redacted.contains("username alice password 0 <redacted>\n"));
    let plain = ios::render(&parsed.config);
    assert!(plain.contains(GROUP_KEY) && plain.contains(BOB));

    // Error texts and skipped lines quote lines with the secrets hidden.
    let e = err("crypto isakmp client configuration group g\n key 0 two words\n");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("two") && !shown.contains("words"),
        "{shown}"
    );
    let e = err("crypto isakmp client configuration group g\n key gkey-secret extra\n");
    let shown = format!("{e} {e:?}");
    assert!(
        !shown.contains("gkey-secret") && !shown.contains("extra"),
        "{shown}"
    );
    let parsed =
        ios::parse("username u nopassword\nusername v password 9 very secret words\n").unwrap();
    let texts: Vec<&str> = parsed.skipped.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "username u nopassword",
            "username v password 9 <redacted> <redacted> <redacted>"
        ]
    );
}

#[test]
fn cross_checks_name_their_lines() {
    let text = "\
crypto isakmp client configuration group nokey
 pool nopool
 acl NOACL
crypto isakmp client configuration group g2
 key k2-secret
 acl 120
aaa authentication login xl local
username u secret 5 $1$abcd$efghijklmnopqrstuvwxy.
ip local pool a 10.0.0.1 10.0.0.10
ip local pool b 10.0.0.10 10.0.0.20
crypto map m client authentication list nolist
crypto map m client configuration address initiate
access-list 120 permit ip 10.0.0.0 0.0.255.0 any
";
    let parsed = ios::parse(text).unwrap();
    let found: Vec<(Severity, Location, DiagnosticKind, Option<usize>)> = parsed
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.location.clone(), d.kind.clone(), d.line))
        .collect();
    let group = |n: &str| Location::ClientGroup(n.into());
    let map = Location::CryptoMapClient("m".into());
    assert_eq!(
        found,
        [
            (
                Severity::Error,
                Location::AaaLogin("xl".into()),
                DiagnosticKind::AaaWithoutNewModel,
                Some(7)
            ),
            (
                Severity::Warning,
                Location::LocalUser("u".into()),
                DiagnosticKind::UnsupportedCredential { form: "secret 5" },
                Some(8)
            ),
            (
                Severity::Error,
                Location::LocalPool("b".into()),
                DiagnosticKind::PoolOverlap { other: "a".into() },
                Some(10)
            ),
            (
                Severity::Warning,
                Location::AccessListEntry {
                    acl: AclName::Numbered(120),
                    seq: 10
                },
                DiagnosticKind::NotASplitNetwork { group: "g2".into() },
                Some(13)
            ),
            (
                Severity::Warning,
                group("nokey"),
                DiagnosticKind::NoGroupKey,
                Some(1)
            ),
            (
                Severity::Warning,
                group("nokey"),
                DiagnosticKind::MissingPool {
                    name: "nopool".into()
                },
                Some(1)
            ),
            (
                Severity::Warning,
                group("nokey"),
                DiagnosticKind::MissingAccessList {
                    name: AclName::Named("NOACL".into())
                },
                Some(1)
            ),
            (
                Severity::Warning,
                map.clone(),
                DiagnosticKind::MissingCryptoMap { name: "m".into() },
                Some(11)
            ),
            (
                Severity::Warning,
                map.clone(),
                DiagnosticKind::MissingAaaList {
                    list: "nolist".into(),
                    kind: "authentication login"
                },
                Some(11)
            ),
            (
                Severity::Warning,
                map,
                DiagnosticKind::NoGroupAuthorization,
                Some(11)
            ),
        ]
    );
    // The split network left out is the one the check named.
    assert!(parsed.config.split_networks("g2").is_empty());
    for d in &parsed.diagnostics {
        assert!(!d.to_string().contains("k2-secret"));
    }
}

#[test]
fn refused_lines_name_their_line() {
    let base_lines = with("").lines().count();
    let at = base_lines + 1;
    let cases: Vec<(&str, Expect)> = vec![
        ("ip local pool p 10.9.1.9 10.9.1.1\n", |k| {
            matches!(k, ParseErrorKind::Pool(PoolError::ReversedRange { .. }))
        }),
        ("ip local pool huge 0.0.0.0 255.255.255.255\n", |k| {
            matches!(
                k,
                ParseErrorKind::Pool(PoolError::RangeTooLarge {
                    size: 4_294_967_296,
                    ..
                })
            )
        }),
        ("ip local pool p 10.9.0.5 10.9.0.20\n", |k| {
            matches!(k, ParseErrorKind::Pool(PoolError::Overlap { .. }))
        }),
        ("ip local pool p 10.9.0.300\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        ("aaa authentication login radius-list group radius\n", |k| {
            matches!(k, ParseErrorKind::UnsupportedCommand { .. })
        }),
        ("aaa authorization network gl2 local group tacacs+\n", |k| {
            matches!(k, ParseErrorKind::UnsupportedCommand { .. })
        }),
        ("aaa authentication login only-list\n", |k| {
            matches!(k, ParseErrorKind::Missing { .. })
        }),
        ("crypto isakmp xauth timeout 4\n", |k| {
            matches!(
                k,
                ParseErrorKind::OutOfRange {
                    value: 4,
                    min: 5,
                    max: 90,
                    ..
                }
            )
        }),
        ("crypto isakmp xauth timeout 91\n", |k| {
            matches!(k, ParseErrorKind::OutOfRange { value: 91, .. })
        }),
        (
            "crypto isakmp client configuration address-pool local p\n",
            |k| matches!(k, ParseErrorKind::UnsupportedCommand { .. }),
        ),
        ("crypto map m client configuration address both\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        ("crypto map m client authentication list\n", |k| {
            matches!(k, ParseErrorKind::Missing { .. })
        }),
        ("crypto map m isakmp authorization list a b\n", |k| {
            matches!(k, ParseErrorKind::Trailing { .. })
        }),
        ("username u privilege 16 password 0 x\n", |k| {
            matches!(k, ParseErrorKind::OutOfRange { value: 16, .. })
        }),
        ("username u password\n", |k| {
            matches!(k, ParseErrorKind::Missing { .. })
        }),
    ];
    for (line, expect) in cases {
        let text = with(line);
        let e = err(&text);
        assert_eq!(e.line, at, "{line:?}: {e}");
        assert!(expect(&e.kind), "{line:?}: {e}");
    }

    // Group sub-mode lines, after the group header.
    let group_cases: Vec<(&str, Expect)> = vec![
        (" key 6 ABCDEF0123\n", |k| {
            matches!(k, ParseErrorKind::EncryptedKey)
        }),
        (" key a b\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        (" dns 10.0.0.1 10.0.0.2 10.0.0.3\n", |k| {
            matches!(k, ParseErrorKind::Trailing { .. })
        }),
        (" wins\n", |k| matches!(k, ParseErrorKind::Missing { .. })),
        (" backup-gateway vpn2.example\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        (" max-users 0\n", |k| {
            matches!(k, ParseErrorKind::OutOfRange { .. })
        }),
        (" firewall policy CHECK\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        (" split-dns corp.example\n", |k| {
            matches!(k, ParseErrorKind::UnsupportedCommand { .. })
        }),
        (" banner #text# more\n", |k| {
            matches!(k, ParseErrorKind::Trailing { .. })
        }),
        (" banner #has ^C inside#\n", |k| {
            matches!(k, ParseErrorKind::Unexpected { .. })
        }),
        (" banner\n", |k| matches!(k, ParseErrorKind::Missing { .. })),
    ];
    for (line, expect) in group_cases {
        let text = format!("crypto isakmp client configuration group g\n key ok-key-1\n{line}");
        let e = err(&text);
        assert_eq!(e.line, 3, "{line:?}: {e}");
        assert!(expect(&e.kind), "{line:?}: {e}");
    }

    // A key longer than 128 bytes.
    let e = err(&format!(
        "crypto isakmp client configuration group g\n key {}\n",
        "k".repeat(129)
    ));
    assert_eq!(e.line, 2);
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 129,
            max: 128,
            ..
        }
    ));

    // The eleventh backup gateway.
    let mut text = String::from("crypto isakmp client configuration group g\n");
    for i in 1..=11 {
        text.push_str(&format!(" backup-gateway 192.0.2.{i}\n"));
    }
    let e = err(&text);
    assert_eq!(e.line, 12);
    assert!(matches!(
        e.kind,
        ParseErrorKind::OutOfRange {
            value: 11,
            max: 10,
            ..
        }
    ));

    // A banner that never closes: the error is on the banner line.
    let e = err("crypto isakmp client configuration group g\n banner ^C\nline one\nline two\n");
    assert_eq!(e.line, 2);
    assert_eq!(
        e.kind,
        ParseErrorKind::UnterminatedBanner {
            delimiter: "^C".into()
        }
    );
    // A banner with a carriage return inside a line.
    let e = err("crypto isakmp client configuration group g\n banner ^C\nbad\rline\n^C\n");
    assert_eq!(e.line, 3);

    // Unsupported AAA methods are skipped on request, like other crypto.
    let parsed = ios::parse_with(
        "aaa authentication login r group radius\naaa authentication enable default enable\n",
        &lenient(),
    )
    .unwrap();
    let reasons: Vec<(usize, SkipReason)> =
        parsed.skipped.iter().map(|s| (s.line, s.reason)).collect();
    assert_eq!(
        reasons,
        [
            (1, SkipReason::UnsupportedCrypto),
            (2, SkipReason::OutsideSubset)
        ]
    );
    assert!(!parsed.config.remote_access.has_authentication_list("r"));
}

#[test]
fn banners_single_and_multi_line() {
    let parsed = ios::parse(
        "crypto isakmp client configuration group a\n banner #one line#\n pfs\n\
         crypto isakmp client configuration group b\n banner ^C\n  indented\n\n!not a comment\nend^C\n firewall are-u-there\n\
         crypto isakmp client configuration group c\n banner %%\n",
    )
    .unwrap();
    let c = &parsed.config;
    assert_eq!(
        c.client_group("a").unwrap().banner.as_deref(),
        Some("one line")
    );
    assert!(c.client_group("a").unwrap().pfs);
    assert_eq!(
        c.client_group("b").unwrap().banner.as_deref(),
        Some("\n  indented\n\n!not a comment\nend")
    );
    // The group's sub-mode goes on after the banner.
    assert!(c.client_group("b").unwrap().firewall_are_u_there);
    assert_eq!(c.client_group("c").unwrap().banner.as_deref(), Some(""));
    let rendered = ios::render(c);
    let again = ios::parse(&rendered).unwrap_or_else(|e| panic!("{e}\n{rendered}"));
    assert_eq!(&again.config, c, "{rendered}");
}

#[test]
fn no_forms_remove_and_restore() {
    let text = with(
        "username u password 0 pw-secret\n\
         crypto isakmp xauth timeout 20\n\
         crypto isakmp client configuration group g\n \
         no pool\n \
         dns 10.0.0.1\n \
         no dns\n \
         backup-gateway 192.0.2.1\n \
         backup-gateway 192.0.2.2\n \
         no backup-gateway 192.0.2.1\n \
         no key\n\
         ip local pool p 10.9.1.1 10.9.1.5\n\
         no ip local pool p 10.9.0.1 10.9.0.9\n\
         no username u\n\
         no crypto isakmp xauth timeout\n\
         no crypto map m client authentication list xl\n\
         no aaa authorization network gl\n",
    );
    let parsed = ios::parse(&text).unwrap();
    let c = &parsed.config;
    let g = c.client_group("g").unwrap();
    assert!(g.pool.is_none() && g.dns.is_empty() && g.key.is_none());
    assert_eq!(g.backup_gateways, [ip("192.0.2.2")]);
    assert_eq!(c.pool("p").unwrap().ranges().len(), 1);
    assert_eq!(c.pool("p").unwrap().ranges()[0].start(), ip("10.9.1.1"));
    assert!(c.remote_access.user("u").is_none());
    assert_eq!(c.remote_access.xauth_timeout, 60);
    assert_eq!(c.xauth_list_for_map("m"), None);
    assert_eq!(c.group_authorization_list_for_map("m"), Some("gl"));
    assert!(!c.remote_access.has_authorization_list("gl"));

    let parsed = ios::parse(&with(
        "no crypto map m\n\
         no crypto isakmp client configuration group g\n\
         no ip local pool p\n\
         no aaa new-model\n",
    ))
    .unwrap();
    let c = &parsed.config;
    assert!(c.client_group("g").is_none());
    assert!(c.pool("p").is_none());
    assert!(c.remote_access.map("m").is_none());
    assert!(!c.remote_access.aaa_new_model);
}

/// The configuration's clear-text users, as the gateway hands them to
/// `UserDb::add_clear_users`.
fn clear_users(config: &ted::config::Config) -> Vec<(&str, &[u8])> {
    config
        .local_users()
        .filter_map(|u| u.xauth_password().map(|p| (u.name(), p)))
        .collect()
}
