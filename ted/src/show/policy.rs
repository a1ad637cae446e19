//! `show crypto isakmp policy`: the configured protection suites in IOS's
//! layout, then IOS's default suite, and (a line IOS does not print) whether
//! Aggressive Mode is answered.

use core::fmt::Write as _;

use crate::config::{
    AesKeySize, DhGroup, IsakmpAuthentication, IsakmpConfig, IsakmpEncryption, IsakmpHash,
    IsakmpPolicy,
};

fn encryption(e: IsakmpEncryption) -> String {
    match e {
        IsakmpEncryption::Des => "DES - Data Encryption Standard (56 bit keys).".to_owned(),
        IsakmpEncryption::TripleDes => "Three key triple DES".to_owned(),
        IsakmpEncryption::Aes(size) => format!(
            "AES - Advanced Encryption Standard ({} bit keys).",
            match size {
                AesKeySize::Aes128 => 128,
                other => other.bits(),
            }
        ),
    }
}

fn hash(h: IsakmpHash) -> &'static str {
    match h {
        IsakmpHash::Sha => "Secure Hash Standard",
        IsakmpHash::Md5 => "Message Digest 5",
        IsakmpHash::Sha256 => "Secure Hash Standard 2 (256 bit)",
        IsakmpHash::Sha384 => "Secure Hash Standard 2 (384 bit)",
        IsakmpHash::Sha512 => "Secure Hash Standard 2 (512 bit)",
    }
}

fn authentication(a: IsakmpAuthentication) -> &'static str {
    match a {
        IsakmpAuthentication::PreShare => "Pre-Shared Key",
        IsakmpAuthentication::RsaSig => "Rivest-Shamir-Adleman Signature",
        IsakmpAuthentication::RsaEncr => "Rivest-Shamir-Adleman Encryption",
        IsakmpAuthentication::EcdsaSig => "ECDSA Signature",
    }
}

fn group(g: DhGroup) -> String {
    let bits = match g {
        DhGroup::Group1 => 768,
        DhGroup::Group2 => 1024,
        DhGroup::Group5 => 1536,
        DhGroup::Group14 => 2048,
        DhGroup::Group15 => 3072,
        DhGroup::Group16 => 4096,
    };
    format!("#{} ({bits} bit)", g.number())
}

fn suite(out: &mut String, title: &str, p: &IsakmpPolicy) {
    let _ = writeln!(out, "{title}");
    let _ = writeln!(out, "\tencryption algorithm:\t{}", encryption(p.encryption));
    let _ = writeln!(out, "\thash algorithm:\t\t{}", hash(p.hash));
    let _ = writeln!(
        out,
        "\tauthentication method:\t{}",
        authentication(p.authentication)
    );
    let _ = writeln!(out, "\tDiffie-Hellman group:\t{}", group(p.group));
    let _ = writeln!(
        out,
        "\tlifetime:\t\t{} seconds, no volume limit",
        p.lifetime
    );
}

/// `show crypto isakmp policy` for `isakmp`: each `crypto isakmp policy`
/// by priority as "Protection suite of priority N", then IOS's "Default
/// protection suite", then whether Aggressive Mode is answered (this
/// line is ours: IOS has no view that says it).
#[must_use]
pub fn isakmp_policy(isakmp: &IsakmpConfig) -> String {
    let mut out = String::new();
    out.push_str("Global IKE policy\n");
    for p in isakmp.policies() {
        suite(
            &mut out,
            &format!("Protection suite of priority {}", p.priority),
            p,
        );
    }
    suite(
        &mut out,
        "Default protection suite",
        &IsakmpPolicy::with_ios_defaults(IsakmpPolicy::DEFAULT_SUITE_PRIORITY),
    );
    let has_psk = !isakmp.keys().is_empty();
    let line = match (isakmp.aggressive_mode_disabled, has_psk) {
        (true, _) => {
            "Aggressive Mode:\tnot answered (crypto isakmp aggressive-mode disable)".to_owned()
        }
        (false, true) => "Aggressive Mode:\tanswered; its reply exposes the pre-shared keys \
                          to offline attack (crypto isakmp aggressive-mode disable turns it off)"
            .to_owned(),
        (false, false) => "Aggressive Mode:\tanswered (no pre-shared key configured)".to_owned(),
    };
    let _ = writeln!(out, "{line}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_policy_and_aggressive_mode_line() {
        let fred = crate::config::ios::parse(include_str!("../../../vectors/seed/fred.cfg"))
            .map(|p| p.config)
            .ok();
        let Some(mut config) = fred else {
            panic!("the seed imports");
        };
        let text = isakmp_policy(&config.isakmp);
        assert!(text.contains("Protection suite of priority 10\n"), "{text}");
        assert!(
            text.contains(
                "\tencryption algorithm:\tDES - Data Encryption Standard (56 bit keys).\n"
            )
        );
        assert!(text.contains("\tauthentication method:\tPre-Shared Key\n"));
        assert!(text.contains("\tDiffie-Hellman group:\t#1 (768 bit)\n"));
        assert!(text.contains("Default protection suite\n"));
        assert!(text.contains("Rivest-Shamir-Adleman Signature"));
        assert!(text.contains("Aggressive Mode:\tanswered; its reply exposes"));
        config.isakmp.aggressive_mode_disabled = true;
        let text = isakmp_policy(&config.isakmp);
        assert!(
            text.ends_with(
                "Aggressive Mode:\tnot answered (crypto isakmp aggressive-mode disable)\n"
            )
        );
    }
}
