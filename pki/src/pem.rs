//! PEM text (RFC 7468) split into its blocks.
//!
//! Files written by OpenSSL may hold several blocks ("EC PARAMETERS" before
//! "EC PRIVATE KEY", a bundle of certificates) and text between them; each
//! block is decoded on its own by `der`'s RFC 7468 decoder.

use zeroize::Zeroizing;

/// One `-----BEGIN label-----` ... `-----END label-----` block.
pub(crate) struct Block<'a> {
    /// The label (`CERTIFICATE`, `PRIVATE KEY`, ...).
    pub(crate) label: &'a str,
    /// The block's text, both boundary lines included.
    text: &'a str,
}

impl Block<'_> {
    /// The block's DER, in a buffer wiped on drop (it may be a private
    /// key).
    pub(crate) fn decode(&self) -> Result<Zeroizing<Vec<u8>>, String> {
        der::pem::decode_vec(self.text.as_bytes())
            .map(|(_, der)| Zeroizing::new(der))
            .map_err(|e| e.to_string())
    }
}

/// The DER of the first block of `text` labelled `label`; without one,
/// or if it does not decode, why (for [`CertError::Malformed`](crate::CertError::Malformed)).
pub(crate) fn first(text: &str, label: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    blocks(text)
        .into_iter()
        .find(|b| b.label == label)
        .ok_or_else(|| format!("no {label} PEM block"))?
        .decode()
}

/// Every complete block of `text`, in order. A BEGIN line without its END
/// line ends the list.
pub(crate) fn blocks(text: &str) -> Vec<Block<'_>> {
    const BEGIN: &str = "-----BEGIN ";
    const DASHES: &str = "-----";
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(from_begin) = rest.get(start..) else {
            break;
        };
        let Some(after) = from_begin.get(BEGIN.len()..) else {
            break;
        };
        let Some(label_len) = after.find(DASHES) else {
            break;
        };
        let Some(label) = after.get(..label_len) else {
            break;
        };
        if label.contains(['\n', '\r']) {
            // Not a boundary line: skip past this BEGIN.
            rest = after;
            continue;
        }
        let end_line = format!("-----END {label}-----");
        let Some(end) = from_begin.find(&end_line) else {
            break;
        };
        let stop = end + end_line.len();
        let (Some(block), Some(next)) = (from_begin.get(..stop), from_begin.get(stop..)) else {
            break;
        };
        out.push(Block { label, text: block });
        rest = next;
    }
    out
}
