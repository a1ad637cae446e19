//! The certificate files of `--cert`, `--private-key`, `--ca` and
//! `--crl`: read, parsed and checked against each other before anything
//! is opened, every refusal naming the file and the cause.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ike_sm::ike_pki::{Certificate, Crl, PrivateKey, TrustStore};
use zeroize::Zeroizing;

use crate::cli::RunArgs;
use crate::secret;

/// A certificate file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("{flag} {}: {reason}", path.display())]
pub struct PkiFileError {
    /// The flag that named the file.
    pub flag: &'static str,
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// What the files give the engine, and warnings (a key file other users
/// can read).
#[derive(Debug)]
pub struct Loaded {
    /// The engine's certificate settings.
    pub pki: ike_sm::PkiConfig,
    /// Warnings to print.
    pub warnings: Vec<String>,
    /// For the `ready` event: our certificate's subject, if any.
    pub subject: Option<String>,
}

fn read(flag: &'static str, path: &Path) -> Result<Zeroizing<Vec<u8>>, PkiFileError> {
    let refuse = |reason: String| PkiFileError {
        flag,
        path: path.to_path_buf(),
        reason,
    };
    let meta = secret::regular_file(path).map_err(refuse)?;
    // A certificate is a few kilobytes; a bundle of anchors maybe a
    // megabyte. Anything larger is not one.
    if meta.len() > 4 << 20 {
        return Err(refuse(format!("{} bytes is too large", meta.len())));
    }
    std::fs::read(path)
        .map(Zeroizing::new)
        .map_err(|e| refuse(e.to_string()))
}

fn pem(flag: &'static str, path: &Path, bytes: &[u8]) -> Result<String, PkiFileError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| PkiFileError {
        flag,
        path: path.to_path_buf(),
        reason: "not PEM text".into(),
    })
}

/// Loads the files `args` names. Without `--cert`, `--ca` or `--crl` the
/// settings are the gateway's defaults.
///
/// # Errors
/// [`PkiFileError`] for the first file that cannot be used, or a key that
/// is not the certificate's.
pub fn load(args: &RunArgs) -> Result<Loaded, PkiFileError> {
    let mut pki = ted::gateway::GatewayOptions::default().pki;
    let mut warnings = Vec::new();
    let mut subject = None;
    if let (Some(cert_path), Some(key_path)) = (&args.cert, &args.private_key) {
        let bytes = read("--cert", cert_path)?;
        let text = pem("--cert", cert_path, &bytes)?;
        let mut certs = Certificate::all_from_pem(&text).map_err(|e| PkiFileError {
            flag: "--cert",
            path: cert_path.clone(),
            reason: e.to_string(),
        })?;
        if certs.is_empty() {
            return Err(PkiFileError {
                flag: "--cert",
                path: cert_path.clone(),
                reason: "no CERTIFICATE block".into(),
            });
        }
        let certificate = certs.remove(0);
        if secret::readable_by_others(key_path).unwrap_or(false) {
            warnings.push(format!(
                "private key file {} is readable by other users: chmod 600 it",
                key_path.display()
            ));
        }
        let key_bytes = read("--private-key", key_path)?;
        let key = match std::str::from_utf8(&key_bytes) {
            Ok(text) if text.contains("-----BEGIN") => PrivateKey::from_pem(text),
            _ => PrivateKey::from_der(&key_bytes),
        }
        .map_err(|e| PkiFileError {
            flag: "--private-key",
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        let cert_key = certificate.public_key().map_err(|e| PkiFileError {
            flag: "--cert",
            path: cert_path.clone(),
            reason: e.to_string(),
        })?;
        // The key is the certificate's if what it signs the certificate's
        // key verifies (this also covers an algorithm mismatch).
        let probe = [0x5a_u8; 32];
        let pair = key
            .sign_ikev1(&probe)
            .is_ok_and(|sig| cert_key.verify_ikev1(&probe, &sig).is_ok());
        if !pair {
            return Err(PkiFileError {
                flag: "--private-key",
                path: key_path.clone(),
                reason: format!(
                    "not the key of the certificate in {} ({})",
                    cert_path.display(),
                    certificate.subject()
                ),
            });
        }
        subject = Some(certificate.subject());
        pki.credentials = Some(Arc::new(ike_sm::Credentials {
            certificate,
            chain: certs,
            key,
        }));
    }
    let mut trust = TrustStore::new();
    for path in &args.ca {
        let bytes = read("--ca", path)?;
        let text = pem("--ca", path, &bytes)?;
        let anchors = Certificate::all_from_pem(&text).map_err(|e| PkiFileError {
            flag: "--ca",
            path: path.clone(),
            reason: e.to_string(),
        })?;
        if anchors.is_empty() {
            return Err(PkiFileError {
                flag: "--ca",
                path: path.clone(),
                reason: "no CERTIFICATE block".into(),
            });
        }
        for a in anchors {
            trust.add_anchor(a);
        }
    }
    for path in &args.crl {
        let bytes = read("--crl", path)?;
        let crl = match std::str::from_utf8(&bytes) {
            Ok(text) if text.contains("-----BEGIN") => Crl::from_pem(text),
            _ => Crl::from_der(&bytes),
        }
        .map_err(|e| PkiFileError {
            flag: "--crl",
            path: path.clone(),
            reason: e.to_string(),
        })?;
        trust.add_crl(crl);
    }
    if pki.credentials.is_some() && trust.is_empty() {
        warnings.push(
            "--cert without --ca: no peer certificate can be validated, so certificate \
             policies fail"
                .to_owned(),
        );
    }
    pki.trust = trust;
    Ok(Loaded {
        pki,
        warnings,
        subject,
    })
}
