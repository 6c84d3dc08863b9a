//! The grammar of slaacd.conf: options for the whole daemon, one per line
//! (`metric 512`), and `interface NAME { ... }` blocks holding the options
//! of one interface.
//!
//! It turns tokens into [`Options`] per scope and reports the first problem
//! with its position; it never applies defaults or precedence (that is
//! `config`'s job) and never looks at the system.

use super::Problem;
use super::lexer::{Position, Token, TokenKind, tokenize};
use super::option::{Keyword, Options};

/// What one configuration file sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParsedFile {
    /// The options outside interface blocks.
    pub(crate) global: Options,
    /// The interface blocks, in the order of the file.
    pub(crate) interfaces: Vec<InterfaceBlock>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InterfaceBlock {
    pub(crate) name: String,
    pub(crate) options: Options,
}

/// Parses the text of a configuration file.
pub(crate) fn parse(text: &str) -> Result<ParsedFile, (Position, Problem)> {
    let tokens = tokenize(text)?;
    Parser {
        tokens: &tokens,
        next: 0,
        end: Position {
            line: text.lines().count().max(1),
            column: text.lines().last().map_or(0, |line| line.chars().count()) + 1,
        },
    }
    .file()
}

/// Checks an interface name as Linux does (dev_valid_name): 1 to 15 bytes,
/// not `.` or `..`, no `/`, `:` or blank.
pub(crate) fn check_interface_name(name: &str) -> Result<(), Problem> {
    let problem = |why: &str| {
        Err(Problem::new(format!(
            "invalid interface name {name:?}: {why}"
        )))
    };
    if name.is_empty() {
        return problem("it is empty");
    }
    if name.len() > 15 {
        return problem("it is longer than 15 bytes");
    }
    if name == "." || name == ".." {
        return problem("it is not a name");
    }
    if name
        .chars()
        .any(|c| c == '/' || c == ':' || c.is_whitespace() || c.is_control())
    {
        return problem("it may not hold '/', ':', blanks or control characters");
    }
    Ok(())
}

struct Parser<'a> {
    tokens: &'a [Token],
    next: usize,
    /// Where the text ends, for problems at its end.
    end: Position,
}

/// Where each option of a scope was first set.
type FirstSet = Vec<(Keyword, Position)>;

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn take(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.next).cloned();
        self.next += 1;
        token
    }

    fn skip_ends_of_lines(&mut self) {
        while self
            .peek()
            .is_some_and(|token| token.kind == TokenKind::EndOfLine)
        {
            self.next += 1;
        }
    }

    fn file(mut self) -> Result<ParsedFile, (Position, Problem)> {
        let mut parsed = ParsedFile::default();
        let mut first_set = FirstSet::new();
        // Where each interface block began, to name the first of two.
        let mut blocks: Vec<Position> = Vec::new();
        loop {
            self.skip_ends_of_lines();
            let Some(token) = self.take() else {
                return Ok(parsed);
            };
            match token.kind {
                TokenKind::Word(word) if word == "interface" => {
                    let block = self.interface_block(token.at)?;
                    if let Some(index) = parsed
                        .interfaces
                        .iter()
                        .position(|known| known.name == block.name)
                    {
                        return Err((
                            token.at,
                            Problem::new(format!(
                                "interface {:?} has a second block (the first is at line {})",
                                block.name, blocks[index].line
                            )),
                        ));
                    }
                    parsed.interfaces.push(block);
                    blocks.push(token.at);
                }
                TokenKind::Word(word) => {
                    self.option(&word, token.at, false, &mut parsed.global, &mut first_set)?;
                }
                TokenKind::CloseBrace => {
                    return Err((
                        token.at,
                        Problem::new("\"}\" without an interface block to close".to_owned()),
                    ));
                }
                other => {
                    return Err((
                        token.at,
                        Problem::new(format!(
                            "expected an option or an interface block, found {}",
                            other.describe()
                        )),
                    ));
                }
            }
        }
    }

    /// `interface NAME {` options `}`, after the keyword at `at`.
    fn interface_block(&mut self, at: Position) -> Result<InterfaceBlock, (Position, Problem)> {
        let name = match self.take() {
            Some(Token {
                kind: TokenKind::Word(name) | TokenKind::Quoted(name),
                at,
            }) => {
                check_interface_name(&name).map_err(|problem| (at, problem))?;
                name
            }
            Some(Token {
                kind: TokenKind::EndOfLine,
                at,
            }) => return Err((at, Problem::new("interface needs a name".to_owned()))),
            Some(token) => {
                return Err((
                    token.at,
                    Problem::new(format!(
                        "interface needs a name before {}",
                        token.kind.describe()
                    )),
                ));
            }
            None => return Err((self.end, Problem::new("interface needs a name".to_owned()))),
        };
        self.skip_ends_of_lines();
        match self.take() {
            Some(Token {
                kind: TokenKind::OpenBrace,
                ..
            }) => {}
            Some(token) => {
                return Err((
                    token.at,
                    Problem::new(format!(
                        "expected \"{{\" after interface {name:?}, found {}",
                        token.kind.describe()
                    )),
                ));
            }
            None => {
                return Err((
                    self.end,
                    Problem::new(format!("expected \"{{\" after interface {name:?}")),
                ));
            }
        }
        let mut options = Options::default();
        let mut first_set = FirstSet::new();
        loop {
            self.skip_ends_of_lines();
            let Some(token) = self.take() else {
                return Err((
                    self.end,
                    Problem::new(format!(
                        "the block of interface {name:?} (line {}) is not closed with \"}}\"",
                        at.line
                    )),
                ));
            };
            match token.kind {
                TokenKind::CloseBrace => return Ok(InterfaceBlock { name, options }),
                TokenKind::Word(word) if word == "interface" => {
                    return Err((
                        token.at,
                        Problem::new(format!(
                            "interface blocks cannot be nested; the block of interface \
                             {name:?} (line {}) is not closed",
                            at.line
                        )),
                    ));
                }
                TokenKind::Word(word) => {
                    self.option(&word, token.at, true, &mut options, &mut first_set)?;
                }
                other => {
                    return Err((
                        token.at,
                        Problem::new(format!("expected an option, found {}", other.describe())),
                    ));
                }
            }
        }
    }

    /// `KEYWORD VALUE`, then the end of the line or of the block.
    fn option(
        &mut self,
        name: &str,
        at: Position,
        per_interface: bool,
        options: &mut Options,
        first_set: &mut FirstSet,
    ) -> Result<(), (Position, Problem)> {
        let keyword = Keyword::find(name, per_interface).map_err(|problem| (at, problem))?;
        let (value, value_at) = match self.peek() {
            Some(Token {
                kind: TokenKind::Word(value) | TokenKind::Quoted(value),
                at,
            }) => (value.clone(), *at),
            Some(token) => return Err((token.at, keyword.missing_value())),
            None => return Err((self.end, keyword.missing_value())),
        };
        self.next += 1;
        let first = || {
            first_set
                .iter()
                .find(|(set, _)| *set == keyword)
                .map_or_else(String::new, |(_, at)| format!("at line {}", at.line))
        };
        options
            .set(keyword, &value, first)
            .map_err(|problem| (value_at, problem))?;
        first_set.push((keyword, at));
        match self.peek() {
            None => Ok(()),
            Some(Token {
                kind: TokenKind::EndOfLine | TokenKind::CloseBrace,
                ..
            }) => Ok(()),
            Some(token) => Err((
                token.at,
                Problem::new(format!(
                    "unexpected {} after {} {value}; one option per line",
                    token.kind.describe(),
                    keyword.name()
                )),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use slaacd_core::InterfaceIdentifier;

    fn error(text: &str) -> String {
        let (at, problem) = parse(text).unwrap_err();
        format!("{}:{}: {problem}", at.line, at.column)
    }

    #[test]
    fn global_options_and_interface_blocks() {
        let parsed = parse(
            "# slaacd.conf\n\
             user _slaacd\n\
             metric 100   # for every interface\n\
             max-routers 4\n\
             \n\
             interface \"eth0\" {\n\
             \tidentifier eui64\n\
             \tmetric 512\n\
             \tmax-routers 2\n\
             }\n\
             interface wlan0\n\
             {\n\
             \ttemporary-addresses no }\n\
             interface eth1 { }\n",
        )
        .unwrap();
        assert_eq!(parsed.global.user.as_deref(), Some("_slaacd"));
        assert_eq!(parsed.global.metric, Some(100));
        assert_eq!(parsed.global.max_routers, Some(4));
        let names: Vec<&str> = parsed.interfaces.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, ["eth0", "wlan0", "eth1"]);
        assert_eq!(
            parsed.interfaces[0].options.identifier,
            Some(InterfaceIdentifier::Eui64)
        );
        assert_eq!(parsed.interfaces[0].options.metric, Some(512));
        assert_eq!(parsed.interfaces[0].options.max_routers, Some(2));
        assert_eq!(
            parsed.interfaces[1].options.temporary_addresses,
            Some(false)
        );
        assert_eq!(parsed.interfaces[2].options, Options::default());
    }

    #[test]
    fn an_empty_file_sets_nothing() {
        assert_eq!(parse("").unwrap(), ParsedFile::default());
        assert_eq!(parse("\n  # nothing\n").unwrap(), ParsedFile::default());
    }

    #[test]
    fn every_problem_has_its_position() {
        assert_eq!(
            error("metric 5\n\nmetrik 7\n"),
            "3:1: unknown option \"metrik\"; expected one of user, group, socket, key-file, \
             resolver, identifier, temporary-addresses, metric, max-routers, max-prefixes, \
             max-addresses, max-routes, max-dns-servers, max-search-domains"
        );
        assert_eq!(
            error("interface eth0 {\n  metrik 7\n}"),
            "2:3: unknown option \"metrik\"; expected one of identifier, temporary-addresses, \
             metric, max-routers, max-prefixes, max-addresses, max-routes, max-dns-servers, \
             max-search-domains"
        );
        assert_eq!(
            error("interface eth0 {\n max-addresses 1025\n}\n"),
            "2:16: max-addresses must be a number from 1 to 1024, not \"1025\""
        );
        assert_eq!(
            error("interface eth0 {\n  user x\n}"),
            "2:3: user applies to the whole daemon, not to one interface; \
             set it outside interface blocks"
        );
        assert_eq!(
            error("metric\n"),
            "1:7: metric needs a value: a number from 1 to 4294967295"
        );
        assert_eq!(
            error("metric"),
            "1:7: metric needs a value: a number from 1 to 4294967295"
        );
        assert_eq!(
            error("interface eth0 { metric }"),
            "1:25: metric needs a value: a number from 1 to 4294967295"
        );
        assert_eq!(
            error("metric 0x20\n"),
            "1:8: metric must be a number from 1 to 4294967295, not \"0x20\""
        );
        assert_eq!(
            error("metric 5 6\n"),
            "1:10: unexpected \"6\" after metric 5; one option per line"
        );
        assert_eq!(
            error("metric 5 {\n"),
            "1:10: unexpected \"{\" after metric 5; one option per line"
        );
        assert_eq!(
            error("metric 5\nmetric 6\n"),
            "2:8: metric is set twice (first at line 1)"
        );
        assert_eq!(
            error("interface a {\nmetric 5\nmetric 6 }\n"),
            "3:8: metric is set twice (first at line 2)"
        );
        assert_eq!(
            error("}\n"),
            "1:1: \"}\" without an interface block to close"
        );
        assert_eq!(
            error("{\n"),
            "1:1: expected an option or an interface block, found \"{\""
        );
        assert_eq!(
            error("\"metric\" 5\n"),
            "1:1: expected an option or an interface block, found \"metric\""
        );
        assert_eq!(error("interface\n{"), "1:10: interface needs a name");
        assert_eq!(
            error("interface {"),
            "1:11: interface needs a name before \"{\""
        );
        assert_eq!(error("interface"), "1:10: interface needs a name");
        assert_eq!(
            error("interface eth0 metric 5"),
            "1:16: expected \"{\" after interface \"eth0\", found \"metric\""
        );
        assert_eq!(
            error("interface eth0"),
            "1:15: expected \"{\" after interface \"eth0\""
        );
        assert_eq!(
            error("interface eth0 {\n metric 5\n"),
            "2:10: the block of interface \"eth0\" (line 1) is not closed with \"}\""
        );
        assert_eq!(
            error("interface eth0 {\ninterface eth1 {\n}\n}"),
            "2:1: interface blocks cannot be nested; the block of interface \"eth0\" (line 1) \
             is not closed"
        );
        assert_eq!(
            error("interface eth0 {\n{\n}"),
            "2:1: expected an option, found \"{\""
        );
        assert_eq!(
            error("interface eth0 {}\n\ninterface \"eth0\" {}"),
            "3:1: interface \"eth0\" has a second block (the first is at line 1)"
        );
        assert_eq!(
            error("interface \"eth0/1\" {}"),
            "1:11: invalid interface name \"eth0/1\": it may not hold '/', ':', blanks or \
             control characters"
        );
        assert_eq!(
            error("user \"a"),
            "1:6: this quoted string is not closed on its line"
        );
    }

    #[test]
    fn interface_names_are_checked_like_linux_does() {
        let problem = |name| check_interface_name(name).unwrap_err().to_string();
        assert_eq!(problem(""), "invalid interface name \"\": it is empty");
        assert_eq!(
            problem("sixteen-bytes-xx"),
            "invalid interface name \"sixteen-bytes-xx\": it is longer than 15 bytes"
        );
        assert_eq!(
            problem(".."),
            "invalid interface name \"..\": it is not a name"
        );
        assert_eq!(
            problem("eth 0"),
            "invalid interface name \"eth 0\": it may not hold '/', ':', blanks or control \
             characters"
        );
        assert_eq!(
            problem("eth0:1"),
            "invalid interface name \"eth0:1\": it may not hold '/', ':', blanks or control \
             characters"
        );
        assert!(check_interface_name("fifteen-bytes-x").is_ok());
        assert!(check_interface_name("enp0s31f6").is_ok());
    }
}
