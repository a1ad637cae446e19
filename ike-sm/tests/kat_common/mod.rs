//! Reader for the project's vector files (`vectors/*.txt`): `[section]`
//! headers, `key = value` lines, `#` comments, hex without separators.
//!
//! Each test file uses a different subset of these helpers.
#![allow(dead_code)]
// Test support: a malformed vector file is a bug in the test data and should
// fail loudly.
#![allow(clippy::panic)]

use std::collections::BTreeMap;

/// One `[section]` of a vector file.
pub(crate) struct Section {
    pub(crate) name: String,
    fields: BTreeMap<String, String>,
}

impl Section {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    pub(crate) fn str(&self, key: &str) -> &str {
        self.get(key)
            .unwrap_or_else(|| panic!("[{}] has no `{key}`", self.name))
    }

    pub(crate) fn hex(&self, key: &str) -> Vec<u8> {
        hex::decode(self.str(key))
            .unwrap_or_else(|e| panic!("[{}] `{key}` is not hex: {e}", self.name))
    }

    pub(crate) fn hex_opt(&self, key: &str) -> Option<Vec<u8>> {
        self.get(key).map(|_| self.hex(key))
    }

    pub(crate) fn usize(&self, key: &str) -> usize {
        self.str(key)
            .parse()
            .unwrap_or_else(|e| panic!("[{}] `{key}` is not a number: {e}", self.name))
    }
}

/// Every section of `text`, in file order.
pub(crate) fn parse(text: &str) -> Vec<Section> {
    let mut out: Vec<Section> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push(Section {
                name: name.to_string(),
                fields: BTreeMap::new(),
            });
            continue;
        }
        let (k, v) = line
            .split_once(" = ")
            .unwrap_or_else(|| panic!("line {}: not `key = value`: {raw}", n + 1));
        let section = out
            .last_mut()
            .unwrap_or_else(|| panic!("line {}: field before any section", n + 1));
        section
            .fields
            .insert(k.trim().to_string(), v.trim().to_string());
    }
    out
}

/// The sections whose name starts with `prefix`, asserting there is one at
/// least (so that a renamed vector cannot silently skip a test).
pub(crate) fn sections_with_prefix<'a>(all: &'a [Section], prefix: &str) -> Vec<&'a Section> {
    let v: Vec<&Section> = all.iter().filter(|s| s.name.starts_with(prefix)).collect();
    assert!(!v.is_empty(), "no section starts with {prefix:?}");
    v
}
