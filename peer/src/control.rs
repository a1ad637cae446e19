//! The control socket: a Unix stream socket; a client connects, writes one
//! command line (`\n`-terminated), and reads the answer until the peer
//! closes the connection. The answer's last line is `OK` or `ERROR:
//! reason` ([`crate::core::Reply::render`]).
//!
//! The server side never blocks the event loop: a connection's bytes are
//! collected as they come ([`Connection::read`]), bounded in size, and the
//! answer is written out as the socket takes it ([`Connection::write`]).
//! The client ([`client`]) is `ikev1-peer ctl`.

use std::io::{self, ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// The longest command line accepted.
pub const MAX_LINE: usize = 1024;

/// How long the client waits for the answer.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where a connection is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Still reading the command line.
    Reading,
    /// The command line is complete (without its `\n`).
    Command(String),
    /// The answer is written out (or the client went away): close it.
    Done,
}

/// One client connection on the server side.
#[derive(Debug)]
pub struct Connection<S> {
    stream: S,
    input: Vec<u8>,
    output: Vec<u8>,
    written: usize,
}

impl<S: Read + Write> Connection<S> {
    /// A new connection.
    pub fn new(stream: S) -> Self {
        Self {
            stream,
            input: Vec::new(),
            output: Vec::new(),
            written: 0,
        }
    }

    /// The stream.
    pub fn stream(&self) -> &S {
        &self.stream
    }

    /// The stream, to (de)register it.
    pub fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }

    /// Reads what is available; returns the command once its line is
    /// complete. A line over [`MAX_LINE`], bytes that are not UTF-8, or a
    /// client that closes early end the connection with an error answer
    /// or none.
    pub fn read(&mut self) -> Progress {
        let mut buf = [0u8; 256];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    // EOF: a command without its newline still counts.
                    return if self.input.is_empty() {
                        Progress::Done
                    } else {
                        self.line()
                    };
                }
                Ok(n) => {
                    self.input
                        .extend_from_slice(buf.get(..n).unwrap_or_default());
                    if self.input.contains(&b'\n') {
                        return self.line();
                    }
                    if self.input.len() > MAX_LINE {
                        self.answer("ERROR: command line too long\n".into());
                        return self.write();
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Reading,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
    }

    fn line(&mut self) -> Progress {
        let end = self
            .input
            .iter()
            .position(|b| *b == b'\n')
            .unwrap_or(self.input.len());
        let bytes = self.input.get(..end).unwrap_or_default();
        match std::str::from_utf8(bytes) {
            Ok(s) => Progress::Command(s.trim_end_matches('\r').to_owned()),
            Err(_) => {
                self.answer("ERROR: the command is not UTF-8\n".into());
                self.write()
            }
        }
    }

    /// Sets the answer to write.
    pub fn answer(&mut self, text: String) {
        self.output = text.into_bytes();
        self.written = 0;
    }

    /// Writes what the socket takes of the answer; [`Progress::Done`] once
    /// all of it is out (or the client went away).
    pub fn write(&mut self) -> Progress {
        while self.written < self.output.len() {
            let rest = self.output.get(self.written..).unwrap_or_default();
            match self.stream.write(rest) {
                Ok(0) => return Progress::Done,
                Ok(n) => self.written = self.written.saturating_add(n),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Progress::Reading,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Progress::Done,
            }
        }
        Progress::Done
    }

    /// Whether an answer is being written.
    pub fn answering(&self) -> bool {
        !self.output.is_empty()
    }
}

/// `ikev1-peer ctl`: sends `command` to the control socket at `path` and
/// returns the answer, and whether its last line is `OK`.
///
/// # Errors
/// Connecting, writing or reading the socket.
pub fn client(path: &Path, command: &[String]) -> io::Result<(String, bool)> {
    let mut s = UnixStream::connect(path)
        .map_err(|e| io::Error::new(e.kind(), format!("connect {}: {e}", path.display())))?;
    s.set_read_timeout(Some(CLIENT_TIMEOUT))?;
    s.set_write_timeout(Some(CLIENT_TIMEOUT))?;
    let mut line = command.join(" ");
    line.push('\n');
    s.write_all(line.as_bytes())?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let ok = answer.lines().last() == Some("OK");
    Ok((answer, ok))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that yields its input in pieces, then WouldBlock, and takes
    /// at most `take` bytes per write.
    struct Piecewise {
        pieces: Vec<Vec<u8>>,
        eof: bool,
        out: Vec<u8>,
        take: usize,
    }

    impl Read for Piecewise {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.pieces.is_empty() {
                return if self.eof {
                    Ok(0)
                } else {
                    Err(ErrorKind::WouldBlock.into())
                };
            }
            let p = self.pieces.remove(0);
            let n = p.len().min(buf.len());
            buf[..n].copy_from_slice(&p[..n]);
            if n < p.len() {
                // What the reader's buffer did not take comes next time.
                self.pieces.insert(0, p[n..].to_vec());
            }
            Ok(n)
        }
    }

    impl Write for Piecewise {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.take == 0 {
                return Err(ErrorKind::WouldBlock.into());
            }
            let n = buf.len().min(self.take);
            self.out.extend_from_slice(&buf[..n]);
            Ok(n)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn stream(pieces: &[&str], eof: bool, take: usize) -> Piecewise {
        Piecewise {
            pieces: pieces.iter().map(|p| p.as_bytes().to_vec()).collect(),
            eof,
            out: Vec::new(),
            take,
        }
    }

    #[test]
    fn a_line_in_pieces() {
        let mut c = Connection::new(stream(&["show crypto ", "isakmp sa\r\n"], false, 4));
        assert_eq!(c.read(), Progress::Command("show crypto isakmp sa".into()));
        c.answer("dst src\nOK\n".into());
        assert_eq!(c.write(), Progress::Done);
        assert_eq!(c.stream().out, b"dst src\nOK\n");
    }

    #[test]
    fn waits_for_more_then_for_the_socket() {
        let mut c = Connection::new(stream(&["clear crypto"], false, 0));
        assert_eq!(c.read(), Progress::Reading);
        c.stream_mut().pieces.push(b" sa\n".to_vec());
        assert_eq!(c.read(), Progress::Command("clear crypto sa".into()));
        c.answer("OK\n".into());
        assert_eq!(c.write(), Progress::Reading);
        c.stream_mut().take = 1;
        assert_eq!(c.write(), Progress::Done);
        assert_eq!(c.stream().out, b"OK\n");
    }

    #[test]
    fn eof_ends_a_line_and_an_empty_connection() {
        let mut c = Connection::new(stream(&["show counters"], true, 100));
        assert_eq!(c.read(), Progress::Command("show counters".into()));
        let mut c = Connection::new(stream(&[], true, 100));
        assert_eq!(c.read(), Progress::Done);
    }

    #[test]
    fn long_and_binary_lines_are_refused() {
        let long = "x".repeat(MAX_LINE + 10);
        let mut c = Connection::new(stream(&[&long], false, 1000));
        assert_eq!(c.read(), Progress::Done);
        assert_eq!(c.stream().out, b"ERROR: command line too long\n");
        let mut c = Connection::new(Piecewise {
            pieces: vec![vec![0xff, 0xfe, b'\n']],
            eof: false,
            out: Vec::new(),
            take: 1000,
        });
        assert_eq!(c.read(), Progress::Done);
        assert_eq!(c.stream().out, b"ERROR: the command is not UTF-8\n");
    }

    #[test]
    fn the_client_reads_until_close() {
        let dir = std::env::temp_dir().join(format!("ikev1-peer-ctl-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("ctl");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut c = Connection::new(s);
            let Progress::Command(cmd) = c.read() else {
                panic!("no command")
            };
            c.answer(format!("you said {cmd}\nOK\n"));
            c.write()
        });
        let (answer, ok) = client(&path, &["show".into(), "crypto".into(), "map".into()]).unwrap();
        assert_eq!(server.join().unwrap(), Progress::Done);
        assert_eq!(answer, "you said show crypto map\nOK\n");
        assert!(ok);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
