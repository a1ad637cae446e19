//! Lines and tokens of an IOS configuration.
//!
//! IOS splits a command line at blanks and matches keywords without regard
//! to case; names (of maps, sets, lists) keep their case. A [`Cursor`] walks
//! one line's tokens and turns each expectation that fails into a
//! [`ParseErrorKind`] saying what was expected and what came.

use std::net::Ipv4Addr;

use super::error::ParseErrorKind;

/// One non-blank configuration line, trimmed, cut into tokens.
pub(super) struct Line<'a> {
    /// The trimmed text.
    pub(super) text: &'a str,
    /// Tokens with their byte offsets in `text`.
    tokens: Vec<(usize, &'a str)>,
}

impl<'a> Line<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        let mut tokens = Vec::new();
        let mut start = None;
        for (i, ch) in text.char_indices() {
            match (ch.is_whitespace(), start) {
                (true, Some(s)) => {
                    tokens.push((s, text.get(s..i).unwrap_or("")));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            tokens.push((s, text.get(s..).unwrap_or("")));
        }
        Self { text, tokens }
    }

    pub(super) fn cursor(&self) -> Cursor<'_, 'a> {
        Cursor { line: self, pos: 0 }
    }

    /// The first token, lower-cased for keyword comparison.
    pub(super) fn first_keyword(&self) -> Option<String> {
        self.tokens.first().map(|(_, t)| t.to_ascii_lowercase())
    }

    /// The token at `index`, lower-cased.
    pub(super) fn keyword_at(&self, index: usize) -> Option<String> {
        self.tokens.get(index).map(|(_, t)| t.to_ascii_lowercase())
    }
}

/// A position in a line's tokens.
pub(super) struct Cursor<'l, 'a> {
    line: &'l Line<'a>,
    pos: usize,
}

impl<'a> Cursor<'_, 'a> {
    /// The tokens not consumed yet, in order.
    pub(super) fn remaining(&self) -> impl Iterator<Item = &'a str> + '_ {
        self.line.tokens.iter().skip(self.pos).map(|&(_, t)| t)
    }

    /// The next token, not consumed.
    pub(super) fn peek(&self) -> Option<&'a str> {
        self.line.tokens.get(self.pos).map(|&(_, t)| t)
    }

    /// The token after the next one, not consumed.
    pub(super) fn peek2(&self) -> Option<&'a str> {
        self.line
            .tokens
            .get(self.pos.saturating_add(1))
            .map(|&(_, t)| t)
    }

    /// Consumes and returns the next token.
    pub(super) fn next(&mut self) -> Option<&'a str> {
        let t = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(t)
    }

    /// Whether no token is left.
    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.line.tokens.len()
    }

    /// Whether the next token is `keyword` (case-insensitive).
    pub(super) fn peek_is(&self, keyword: &str) -> bool {
        self.peek().is_some_and(|t| t.eq_ignore_ascii_case(keyword))
    }

    /// Consumes the next token if it is `keyword`.
    pub(super) fn eat(&mut self, keyword: &str) -> bool {
        let hit = self.peek_is(keyword);
        if hit {
            self.pos = self.pos.saturating_add(1);
        }
        hit
    }

    /// Consumes a token that must be there.
    pub(super) fn word(&mut self, expected: &'static str) -> Result<&'a str, ParseErrorKind> {
        self.next().ok_or(ParseErrorKind::Missing { expected })
    }

    /// Consumes a token that must be one of `options`; returns the option.
    pub(super) fn keyword(
        &mut self,
        options: &[&'static str],
        expected: &'static str,
    ) -> Result<&'static str, ParseErrorKind> {
        let token = self.word(expected)?;
        options
            .iter()
            .copied()
            .find(|o| o.eq_ignore_ascii_case(token))
            .ok_or_else(|| ParseErrorKind::Unexpected {
                expected,
                found: token.to_owned(),
            })
    }

    /// Consumes a decimal number within `min..=max`.
    pub(super) fn number(
        &mut self,
        what: &'static str,
        min: u64,
        max: u64,
    ) -> Result<u64, ParseErrorKind> {
        let token = self.word(what)?;
        let value = parse_decimal(token).ok_or_else(|| ParseErrorKind::Unexpected {
            expected: what,
            found: token.to_owned(),
        })?;
        if value < min || value > max {
            return Err(ParseErrorKind::OutOfRange {
                what,
                value,
                min,
                max,
            });
        }
        Ok(value)
    }

    /// Consumes a number that fits `u32` within `min..=max`.
    pub(super) fn number_u32(
        &mut self,
        what: &'static str,
        min: u32,
        max: u32,
    ) -> Result<u32, ParseErrorKind> {
        let v = self.number(what, u64::from(min), u64::from(max))?;
        u32::try_from(v).map_err(|_| ParseErrorKind::OutOfRange {
            what,
            value: v,
            min: u64::from(min),
            max: u64::from(max),
        })
    }

    /// Consumes a number that fits `u16` within `min..=max`.
    pub(super) fn number_u16(
        &mut self,
        what: &'static str,
        min: u16,
        max: u16,
    ) -> Result<u16, ParseErrorKind> {
        let v = self.number(what, u64::from(min), u64::from(max))?;
        u16::try_from(v).map_err(|_| ParseErrorKind::OutOfRange {
            what,
            value: v,
            min: u64::from(min),
            max: u64::from(max),
        })
    }

    /// Consumes a dotted-quad IPv4 address.
    pub(super) fn ipv4(&mut self, what: &'static str) -> Result<Ipv4Addr, ParseErrorKind> {
        let token = self.word(what)?;
        token.parse().map_err(|_| ParseErrorKind::Unexpected {
            expected: what,
            found: token.to_owned(),
        })
    }

    /// Whether the next token is an IPv4 address.
    pub(super) fn peek_ipv4(&self) -> Option<Ipv4Addr> {
        self.peek().and_then(|t| t.parse().ok())
    }

    /// Consumes the rest of the line as free text (remarks, descriptions),
    /// inner blanks kept; `None` when nothing is left.
    pub(super) fn rest(&mut self) -> Option<&'a str> {
        let &(start, _) = self.line.tokens.get(self.pos)?;
        self.pos = self.line.tokens.len();
        self.line.text.get(start..).map(str::trim_end)
    }

    /// Fails if tokens are left.
    pub(super) fn end(&self) -> Result<(), ParseErrorKind> {
        match self.peek() {
            None => Ok(()),
            Some(t) => Err(ParseErrorKind::Trailing {
                found: t.to_owned(),
            }),
        }
    }
}

/// A decimal number of ASCII digits only (no sign, no blanks), without
/// overflow.
pub(super) fn parse_decimal(token: &str) -> Option<u64> {
    if token.is_empty() || token.len() > 19 || !token.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    token.parse().ok()
}
