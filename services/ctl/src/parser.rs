//! The slaacctl command grammar: `show interface [IF]`, `send solicitation IF`,
//! `log verbose`, `log brief` and `monitor [IF]`, walked through small static
//! tables.
//!
//! Keywords may be shortened to any unique prefix (`sh int eth0`). The error
//! messages follow OpenBSD's slaacctl word for word. This module only turns words
//! into a [`Command`] (and shows its tables as a tree for shell completion); it
//! must never look up interfaces or touch the daemon.

use std::fmt;

/// What the user asked for, with interface names still unresolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `show interface [IF]`; `None` means every interface.
    ShowInterface(Option<String>),
    /// `send solicitation IF`.
    SendSolicitation(String),
    /// `log verbose`.
    LogVerbose,
    /// `log brief`.
    LogBrief,
    /// `monitor [IF]`; `None` means every interface.
    Monitor(Option<String>),
}

/// Why the words do not form a command. `Display` gives the full message, the
/// list of valid words included, without the program-name prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// The words ended where the grammar wants another one.
    Missing { valid: Vec<&'static str> },
    /// A word is a prefix of more than one keyword.
    Ambiguous {
        word: String,
        valid: Vec<&'static str>,
    },
    /// A word matches no keyword.
    Unknown {
        word: String,
        valid: Vec<&'static str>,
    },
    /// A word follows a complete command.
    Superfluous { word: String },
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let valid = match self {
            ParseError::Missing { valid } => {
                write!(f, "missing argument:")?;
                valid
            }
            ParseError::Ambiguous { word, valid } => {
                write!(f, "ambiguous argument: {word}")?;
                valid
            }
            ParseError::Unknown { word, valid } => {
                write!(f, "unknown argument: {word}")?;
                valid
            }
            ParseError::Superfluous { word } => return write!(f, "superfluous argument: {word}"),
        };
        write!(f, "\nvalid commands/args:")?;
        for word in valid {
            write!(f, "\n  {word}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ParseError {}

/// What a token of the grammar accepts.
#[derive(Debug, Clone, Copy)]
enum Accepts {
    /// A keyword, or any unique prefix of it.
    Keyword(&'static str),
    /// Any word, taken as an interface name.
    InterfaceName,
    /// The end of the words.
    End,
}

/// What a completed walk through the tables asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    ShowInterface,
    SendSolicitation,
    LogVerbose,
    LogBrief,
    Monitor,
}

/// One entry of a grammar table: what it accepts, the action it selects (if
/// any), and the table for the next word (`None` ends the command).
#[derive(Debug)]
struct Token {
    accepts: Accepts,
    action: Option<Action>,
    next: Option<&'static [Token]>,
}

const fn token(accepts: Accepts, action: Option<Action>, next: Option<&'static [Token]>) -> Token {
    Token {
        accepts,
        action,
        next,
    }
}

static MAIN: &[Token] = &[
    token(Accepts::Keyword("log"), None, Some(LOG)),
    token(
        Accepts::Keyword("monitor"),
        Some(Action::Monitor),
        Some(INTERFACE_OPTIONAL),
    ),
    token(Accepts::Keyword("send"), None, Some(SEND)),
    token(Accepts::Keyword("show"), None, Some(SHOW)),
];

static LOG: &[Token] = &[
    token(Accepts::Keyword("verbose"), Some(Action::LogVerbose), None),
    token(Accepts::Keyword("brief"), Some(Action::LogBrief), None),
];

static SEND: &[Token] = &[token(
    Accepts::Keyword("solicitation"),
    Some(Action::SendSolicitation),
    Some(INTERFACE_REQUIRED),
)];

static SHOW: &[Token] = &[token(
    Accepts::Keyword("interface"),
    Some(Action::ShowInterface),
    Some(INTERFACE_OPTIONAL),
)];

static INTERFACE_REQUIRED: &[Token] = &[token(Accepts::InterfaceName, None, None)];

static INTERFACE_OPTIONAL: &[Token] = &[
    token(Accepts::End, None, None),
    token(Accepts::InterfaceName, None, None),
];

/// How one word (or the end of the words) fits a table.
enum Match {
    One(&'static Token),
    None,
    Many,
}

fn match_word(table: &'static [Token], word: Option<&str>) -> Match {
    let Some(word) = word else {
        return match table.iter().find(|t| matches!(t.accepts, Accepts::End)) {
            Some(end) => Match::One(end),
            None => Match::None,
        };
    };
    // An exact keyword wins over prefix matches, so a future keyword that is a
    // prefix of another one stays reachable.
    if let Some(exact) = table
        .iter()
        .find(|t| matches!(t.accepts, Accepts::Keyword(k) if k == word))
    {
        return Match::One(exact);
    }
    let mut found = table.iter().filter(|t| match t.accepts {
        Accepts::Keyword(keyword) => !word.is_empty() && keyword.starts_with(word),
        Accepts::InterfaceName => true,
        Accepts::End => false,
    });
    match (found.next(), found.next()) {
        (Some(one), None) => Match::One(one),
        (Some(_), Some(_)) => Match::Many,
        (None, _) => Match::None,
    }
}

/// The words a table accepts, as shown after `valid commands/args:`.
fn valid_words(table: &[Token]) -> Vec<&'static str> {
    table
        .iter()
        .filter_map(|t| match t.accepts {
            Accepts::Keyword(keyword) => Some(keyword),
            Accepts::InterfaceName => Some("<interface>"),
            Accepts::End => None,
        })
        .collect()
}

/// Parses the words after the options into a command.
pub fn parse<S: AsRef<str>>(words: &[S]) -> Result<Command, ParseError> {
    let mut words = words.iter().map(AsRef::as_ref);
    let mut table: &'static [Token] = MAIN;
    let mut action = None;
    let mut interface = None;
    loop {
        let word = words.next();
        let token = match match_word(table, word) {
            Match::One(token) => token,
            Match::None => {
                let valid = valid_words(table);
                return Err(match word {
                    None => ParseError::Missing { valid },
                    Some(word) => ParseError::Unknown {
                        word: word.to_owned(),
                        valid,
                    },
                });
            }
            Match::Many => {
                return Err(ParseError::Ambiguous {
                    word: word.unwrap_or_default().to_owned(),
                    valid: valid_words(table),
                });
            }
        };
        if let Accepts::InterfaceName = token.accepts {
            interface = word.map(str::to_owned);
        }
        if token.action.is_some() {
            action = token.action;
        }
        match (token.next, token.accepts) {
            (Some(next), _) => table = next,
            (None, Accepts::End) => break,
            (None, _) => {
                if let Some(extra) = words.next() {
                    return Err(ParseError::Superfluous {
                        word: extra.to_owned(),
                    });
                }
                break;
            }
        }
    }
    match (action, interface) {
        (Some(Action::ShowInterface), interface) => Ok(Command::ShowInterface(interface)),
        (Some(Action::SendSolicitation), Some(name)) => Ok(Command::SendSolicitation(name)),
        (Some(Action::LogVerbose), _) => Ok(Command::LogVerbose),
        (Some(Action::LogBrief), _) => Ok(Command::LogBrief),
        (Some(Action::Monitor), interface) => Ok(Command::Monitor(interface)),
        // The tables end no walk without an action, nor a solicitation without
        // an interface; should they ever, the words were one short.
        _ => Err(ParseError::Missing {
            valid: valid_words(table),
        }),
    }
}

/// One keyword of the grammar and what may follow it, for shell completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keyword {
    pub word: &'static str,
    pub then: Then,
}

/// What may follow a keyword.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Then {
    /// One of these keywords.
    Keywords(Vec<Keyword>),
    /// An interface name; `optional` when the command may end instead.
    Interface { optional: bool },
    /// Nothing: the command is complete.
    End,
}

/// The grammar as a tree of keywords, read from the same tables the parser
/// walks, so completion offers exactly what `parse` accepts.
pub fn grammar() -> Vec<Keyword> {
    keywords(MAIN)
}

fn keywords(table: &'static [Token]) -> Vec<Keyword> {
    table
        .iter()
        .filter_map(|token| match token.accepts {
            Accepts::Keyword(word) => Some(Keyword {
                word,
                then: then(token.next),
            }),
            Accepts::InterfaceName | Accepts::End => None,
        })
        .collect()
}

fn then(next: Option<&'static [Token]>) -> Then {
    let Some(table) = next else {
        return Then::End;
    };
    let takes_interface = table
        .iter()
        .any(|t| matches!(t.accepts, Accepts::InterfaceName));
    if takes_interface {
        Then::Interface {
            optional: table.iter().any(|t| matches!(t.accepts, Accepts::End)),
        }
    } else {
        Then::Keywords(keywords(table))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(line: &str) -> Result<Command, ParseError> {
        let words: Vec<&str> = line.split_whitespace().collect();
        parse(&words)
    }

    #[test]
    fn full_keywords() {
        assert_eq!(
            parse_str("show interface"),
            Ok(Command::ShowInterface(None))
        );
        assert_eq!(
            parse_str("show interface eth0"),
            Ok(Command::ShowInterface(Some("eth0".into())))
        );
        assert_eq!(
            parse_str("send solicitation eth0"),
            Ok(Command::SendSolicitation("eth0".into()))
        );
        assert_eq!(parse_str("log verbose"), Ok(Command::LogVerbose));
        assert_eq!(parse_str("log brief"), Ok(Command::LogBrief));
        assert_eq!(parse_str("monitor"), Ok(Command::Monitor(None)));
        assert_eq!(
            parse_str("monitor eth0"),
            Ok(Command::Monitor(Some("eth0".into())))
        );
    }

    #[test]
    fn unique_prefixes() {
        assert_eq!(
            parse_str("sh int em0"),
            Ok(Command::ShowInterface(Some("em0".into())))
        );
        assert_eq!(parse_str("sh i"), Ok(Command::ShowInterface(None)));
        assert_eq!(
            parse_str("se s wlan0"),
            Ok(Command::SendSolicitation("wlan0".into()))
        );
        assert_eq!(parse_str("l v"), Ok(Command::LogVerbose));
        assert_eq!(parse_str("lo b"), Ok(Command::LogBrief));
        assert_eq!(parse_str("mon"), Ok(Command::Monitor(None)));
        assert_eq!(parse_str("m em0"), Ok(Command::Monitor(Some("em0".into()))));
    }

    #[test]
    fn interface_names_are_not_keywords() {
        // An interface named like a keyword is still an interface name.
        assert_eq!(
            parse_str("show interface show"),
            Ok(Command::ShowInterface(Some("show".into())))
        );
    }

    #[test]
    fn ambiguous_prefix() {
        let err = parse_str("s int").unwrap_err();
        assert_eq!(
            err.to_string(),
            "ambiguous argument: s\nvalid commands/args:\n  log\n  monitor\n  send\n  show"
        );
    }

    #[test]
    fn unknown_keyword() {
        let err = parse_str("show routes").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown argument: routes\nvalid commands/args:\n  interface"
        );
        let err = parse_str("shows").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown argument: shows\nvalid commands/args:\n  log\n  monitor\n  send\n  show"
        );
    }

    #[test]
    fn empty_word_is_unknown() {
        let err = parse(&["show", ""]).unwrap_err();
        assert_eq!(
            err,
            ParseError::Unknown {
                word: String::new(),
                valid: vec!["interface"]
            }
        );
    }

    #[test]
    fn missing_command() {
        let err = parse::<&str>(&[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing argument:\nvalid commands/args:\n  log\n  monitor\n  send\n  show"
        );
    }

    #[test]
    fn missing_interface() {
        let err = parse_str("send solicitation").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing argument:\nvalid commands/args:\n  <interface>"
        );
    }

    #[test]
    fn missing_log_level() {
        let err = parse_str("log").unwrap_err();
        assert_eq!(
            err.to_string(),
            "missing argument:\nvalid commands/args:\n  verbose\n  brief"
        );
    }

    #[test]
    fn superfluous_words() {
        let err = parse_str("show interface eth0 eth1").unwrap_err();
        assert_eq!(err.to_string(), "superfluous argument: eth1");
        let err = parse_str("log verbose now").unwrap_err();
        assert_eq!(err.to_string(), "superfluous argument: now");
        let err = parse_str("send solicitation eth0 again").unwrap_err();
        assert_eq!(err.to_string(), "superfluous argument: again");
        let err = parse_str("mon eth0 eth1").unwrap_err();
        assert_eq!(err.to_string(), "superfluous argument: eth1");
    }

    #[test]
    fn the_grammar_tree_follows_the_tables() {
        let end = |word| Keyword {
            word,
            then: Then::End,
        };
        assert_eq!(
            grammar(),
            [
                Keyword {
                    word: "log",
                    then: Then::Keywords(vec![end("verbose"), end("brief")]),
                },
                Keyword {
                    word: "monitor",
                    then: Then::Interface { optional: true },
                },
                Keyword {
                    word: "send",
                    then: Then::Keywords(vec![Keyword {
                        word: "solicitation",
                        then: Then::Interface { optional: false },
                    }]),
                },
                Keyword {
                    word: "show",
                    then: Then::Keywords(vec![Keyword {
                        word: "interface",
                        then: Then::Interface { optional: true },
                    }]),
                },
            ]
        );
    }
}
