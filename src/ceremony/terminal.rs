//! The terminal a ceremony talks to, as a trait: the pipeline prints the
//! plan, asks for PINs and lines, and asks for a typed `yes` through it,
//! so tests drive the same pipeline with a [`Scripted`] terminal.
//!
//! [`Tty`] is the real one. Every prompt puts the terminal in a mode of
//! its own (no echo for secrets, no line editing by the kernel, no signal
//! keys) under a [`ModeGuard`] that restores the saved mode when dropped:
//! on success, on an error, and on Ctrl-C, which arrives as a byte (ISIG
//! off) and ends the prompt with [`TerminalError::Interrupted`] instead of
//! killing the process with echo still off. No signal handler is needed,
//! so no `unsafe`.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Read, Write};
use zeroize::Zeroizing;

/// The exit status of a command interrupted at a prompt (Ctrl-C, or
/// Ctrl-D where an answer was needed): 130, the shell's status for SIGINT.
/// `ceremony run` reads it from the command a step started and says the
/// step was interrupted rather than failed.
pub const INTERRUPTED_EXIT: u8 = 130;

/// Why a prompt gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum TerminalError {
    #[error("interrupted (Ctrl-C) at the prompt {0:?}; nothing was signed or written")]
    Interrupted(String),
    #[error("end of input (Ctrl-D) at the prompt {0:?}; nothing was signed or written")]
    EndOfInput(String),
    /// A command `ceremony run` started was stopped at one of its prompts
    /// (it exited with [`INTERRUPTED_EXIT`]); the command said why itself.
    #[error(
        "{0} was interrupted at one of its prompts (Ctrl-C or Ctrl-D); it signed and wrote nothing"
    )]
    StepInterrupted(String),
    #[error("{0} but there is no terminal to ask on")]
    NoTerminal(String),
    #[error("the terminal: {0}")]
    Io(#[from] std::io::Error),
}

impl TerminalError {
    /// Whether the person at the terminal stopped the command (Ctrl-C or
    /// Ctrl-D at a prompt), as opposed to a terminal that failed.
    pub fn is_interruption(&self) -> bool {
        matches!(
            self,
            TerminalError::Interrupted(_)
                | TerminalError::EndOfInput(_)
                | TerminalError::StepInterrupted(_)
        )
    }
}

/// What a ceremony needs from whoever runs it.
pub trait Terminal {
    /// Prints text for the people present (standard error for a TTY).
    fn say(&mut self, text: &str);
    /// Asks for a secret (not echoed).
    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, TerminalError>;
    /// Asks for a line (echoed).
    fn line(&mut self, prompt: &str) -> Result<String, TerminalError>;
    /// Whether someone can answer prompts.
    fn interactive(&self) -> bool;
}

/// The typed confirmation: true only for `yes`.
pub fn confirmed(term: &mut dyn Terminal, action: &str) -> Result<bool, TerminalError> {
    let answer = term.line(&format!("{action}? Type 'yes' to continue: "))?;
    Ok(answer.trim() == "yes")
}

/// The controlling terminal (`/dev/tty`).
pub struct Tty {
    tty: Option<File>,
}

impl Tty {
    /// Opens `/dev/tty` when standard input is a terminal (a command whose
    /// standard input is a pipe or file is run by a script, which says `--yes`).
    pub fn open() -> Self {
        let tty = if std::io::stdin().is_terminal() {
            OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .ok()
        } else {
            None
        };
        Tty { tty }
    }

    /// Opens `/dev/tty` even when standard input is not a terminal (PIN
    /// prompts of a command fed data on standard input).
    pub fn controlling() -> Self {
        Tty {
            tty: OpenOptions::new()
                .read(true)
                .write(true)
                .open("/dev/tty")
                .ok(),
        }
    }

    fn ask(&mut self, prompt: &str, echo: bool) -> Result<Zeroizing<String>, TerminalError> {
        let Some(tty) = self.tty.as_mut() else {
            return Err(TerminalError::NoTerminal(format!(
                "an answer to {prompt:?} is needed"
            )));
        };
        let guard = ModeGuard::prompt_mode(tty, echo)?;
        tty.write_all(crate::shown::for_terminal(prompt).as_bytes())?;
        tty.flush()?;
        let result = read_answer(tty, echo, prompt);
        // Restore before printing the newline the user's Enter did not echo.
        drop(guard);
        let _ = tty.write_all(b"\n");
        result
    }
}

impl Terminal for Tty {
    fn say(&mut self, text: &str) {
        // The last line of defence: outside text that reached a message
        // raw still cannot move the cursor or rewrite what is shown.
        eprintln!("{}", crate::shown::for_terminal(text));
    }
    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, TerminalError> {
        self.ask(prompt, false)
    }
    fn line(&mut self, prompt: &str) -> Result<String, TerminalError> {
        self.ask(prompt, true).map(|s| s.to_string())
    }
    fn interactive(&self) -> bool {
        self.tty.is_some()
    }
}

/// Restores the terminal mode saved at creation when dropped.
pub struct ModeGuard {
    tty: File,
    saved: rustix::termios::Termios,
}

impl ModeGuard {
    /// Saves the mode of `tty` and sets the prompt mode: byte at a time,
    /// no signal keys, echo only when `echo`. Input typed or pasted ahead
    /// is kept (as `rpassword` keeps it): a custodian may paste the four
    /// lines of a sheet at once.
    pub fn prompt_mode(tty: &File, echo: bool) -> Result<Self, TerminalError> {
        use rustix::termios::{
            tcgetattr, tcsetattr, LocalModes, OptionalActions, SpecialCodeIndex,
        };
        let saved = tcgetattr(tty).map_err(std::io::Error::from)?;
        let mut t = saved.clone();
        t.local_modes
            .remove(LocalModes::ICANON | LocalModes::ISIG | LocalModes::ECHO);
        if echo {
            t.local_modes.insert(LocalModes::ECHO);
        }
        t.special_codes[SpecialCodeIndex::VMIN] = 1;
        t.special_codes[SpecialCodeIndex::VTIME] = 0;
        let guard = ModeGuard {
            tty: tty.try_clone()?,
            saved,
        };
        tcsetattr(tty, OptionalActions::Drain, &t).map_err(std::io::Error::from)?;
        Ok(guard)
    }
}

impl Drop for ModeGuard {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(
            &self.tty,
            rustix::termios::OptionalActions::Now,
            &self.saved,
        );
    }
}

const CTRL_C: u8 = 0x03;
const CTRL_D: u8 = 0x04;
const CTRL_U: u8 = 0x15;
const BACKSPACE: u8 = 0x08;
const DELETE: u8 = 0x7f;
const MAX_ANSWER: usize = 1024;

/// Reads one answer byte by byte: Enter ends it, Ctrl-C interrupts,
/// Ctrl-D on an empty line is end of input, Backspace and Ctrl-U edit.
fn read_answer(
    input: &mut impl ReadWrite,
    echo: bool,
    prompt: &str,
) -> Result<Zeroizing<String>, TerminalError> {
    let mut answer = Zeroizing::new(Vec::with_capacity(MAX_ANSWER));
    let mut byte = [0u8; 1];
    loop {
        if input.read(&mut byte)? == 0 {
            return Err(TerminalError::EndOfInput(prompt.to_string()));
        }
        match byte[0] {
            b'\r' | b'\n' => break,
            CTRL_C => return Err(TerminalError::Interrupted(prompt.to_string())),
            CTRL_D if answer.is_empty() => {
                return Err(TerminalError::EndOfInput(prompt.to_string()))
            }
            BACKSPACE | DELETE => {
                if answer.pop().is_some() && echo {
                    let _ = input.write_all(b"\x08 \x08");
                }
            }
            CTRL_U => {
                if echo {
                    for _ in 0..answer.len() {
                        let _ = input.write_all(b"\x08 \x08");
                    }
                }
                answer.clear();
            }
            b if answer.len() < MAX_ANSWER => answer.push(b),
            _ => {}
        }
    }
    match std::str::from_utf8(&answer) {
        Ok(s) => Ok(Zeroizing::new(s.to_string())),
        Err(_) => Ok(Zeroizing::new(
            String::from_utf8_lossy(&answer).into_owned(),
        )),
    }
}

trait ReadWrite: Read + Write {}
impl<T: Read + Write> ReadWrite for T {}

/// A terminal that only prints (standard error) and has nobody to ask:
/// what the library says to the people present, for the commands that do
/// not run through the pipeline yet.
#[derive(Debug, Default, Clone, Copy)]
pub struct Stderr;

impl Terminal for Stderr {
    fn say(&mut self, text: &str) {
        // The last line of defence: outside text that reached a message
        // raw still cannot move the cursor or rewrite what is shown.
        eprintln!("{}", crate::shown::for_terminal(text));
    }
    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, TerminalError> {
        Err(TerminalError::NoTerminal(format!(
            "an answer to {prompt:?} is needed"
        )))
    }
    fn line(&mut self, prompt: &str) -> Result<String, TerminalError> {
        Err(TerminalError::NoTerminal(format!(
            "an answer to {prompt:?} is needed"
        )))
    }
    fn interactive(&self) -> bool {
        false
    }
}

/// Answers read line by line from standard input, prompts on standard
/// error: `ceremony run` fed its answers by a pipe. Secrets are never read
/// this way (a PIN comes from the command's own terminal).
#[derive(Debug, Default, Clone, Copy)]
pub struct StdinLines;

impl Terminal for StdinLines {
    fn say(&mut self, text: &str) {
        eprintln!("{}", crate::shown::for_terminal(text));
    }
    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, TerminalError> {
        Err(TerminalError::NoTerminal(format!(
            "a secret for {prompt:?} is needed"
        )))
    }
    fn line(&mut self, prompt: &str) -> Result<String, TerminalError> {
        use std::io::BufRead;
        eprint!("{}", crate::shown::for_terminal(prompt));
        std::io::stderr().flush().ok();
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            return Err(TerminalError::EndOfInput(prompt.to_string()));
        }
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
    fn interactive(&self) -> bool {
        true
    }
}

/// A terminal that answers from a script (tests, and `--yes` runs that
/// must never block on a prompt).
#[derive(Debug, Default)]
pub struct Scripted {
    answers: std::collections::VecDeque<Answer>,
    /// Everything said and every prompt, in order.
    pub transcript: Vec<String>,
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Answer {
    Text(String),
    /// The person pressed Ctrl-C.
    Interrupt,
}

impl Scripted {
    pub fn new(answers: impl IntoIterator<Item = Answer>) -> Self {
        Scripted {
            answers: answers.into_iter().collect(),
            transcript: Vec::new(),
        }
    }

    /// No answers at all: every prompt fails as without a terminal.
    pub fn none() -> Self {
        Self::default()
    }

    fn next(&mut self, prompt: &str) -> Result<String, TerminalError> {
        self.transcript.push(format!("prompt: {prompt}"));
        match self.answers.pop_front() {
            Some(Answer::Text(t)) => Ok(t),
            Some(Answer::Interrupt) => Err(TerminalError::Interrupted(prompt.to_string())),
            None => Err(TerminalError::NoTerminal(format!(
                "an answer to {prompt:?} is needed"
            ))),
        }
    }
}

impl Terminal for Scripted {
    fn say(&mut self, text: &str) {
        self.transcript.push(text.to_string());
    }
    fn secret(&mut self, prompt: &str) -> Result<Zeroizing<String>, TerminalError> {
        self.next(prompt).map(Zeroizing::new)
    }
    fn line(&mut self, prompt: &str) -> Result<String, TerminalError> {
        self.next(prompt)
    }
    fn interactive(&self) -> bool {
        !self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Bytes(std::io::Cursor<Vec<u8>>, Vec<u8>);
    impl Read for Bytes {
        fn read(&mut self, b: &mut [u8]) -> std::io::Result<usize> {
            self.0.read(b)
        }
    }
    impl Write for Bytes {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.1.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    fn typed(b: &[u8]) -> Bytes {
        Bytes(std::io::Cursor::new(b.to_vec()), Vec::new())
    }

    #[test]
    fn answers_are_edited_and_ended_as_typed() {
        let a = read_answer(&mut typed(b"12x\x7f34\r"), false, "PIN").unwrap();
        assert_eq!(a.as_str(), "1234");
        let a = read_answer(&mut typed(b"no\x15yes\n"), true, "ok").unwrap();
        assert_eq!(a.as_str(), "yes");
    }

    #[test]
    fn ctrl_c_and_ctrl_d_end_the_prompt_with_an_error() {
        let e = read_answer(&mut typed(b"12\x03"), false, "PIN").unwrap_err();
        assert!(matches!(e, TerminalError::Interrupted(_)), "{e}");
        let e = read_answer(&mut typed(b"\x04"), false, "PIN").unwrap_err();
        assert!(matches!(e, TerminalError::EndOfInput(_)), "{e}");
        let e = read_answer(&mut typed(b"12"), false, "PIN").unwrap_err();
        assert!(matches!(e, TerminalError::EndOfInput(_)), "{e}");
    }

    #[test]
    fn the_scripted_terminal_confirms_only_yes() {
        let mut t = Scripted::new([
            Answer::Text("yes".into()),
            Answer::Text("y".into()),
            Answer::Interrupt,
        ]);
        assert!(confirmed(&mut t, "sign").unwrap());
        assert!(!confirmed(&mut t, "sign").unwrap());
        assert!(matches!(
            confirmed(&mut t, "sign"),
            Err(TerminalError::Interrupted(_))
        ));
        assert!(matches!(
            confirmed(&mut t, "sign"),
            Err(TerminalError::NoTerminal(_))
        ));
    }
}
