//! Splits the text of slaacd.conf into tokens that know their line and
//! column: words, quoted strings, braces and ends of lines; `#` starts a
//! comment that runs to the end of the line.
//!
//! It knows no keywords and never interprets a value: that is the parser's
//! and the options' job.

use super::Problem;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TokenKind {
    /// A run of characters other than blanks, braces, `#` and `"`.
    Word(String),
    /// A `"..."` string without its quotes; `\"` and `\\` inside stand for
    /// `"` and `\`.
    Quoted(String),
    OpenBrace,
    CloseBrace,
    EndOfLine,
}

impl TokenKind {
    /// How the token reads in an error message.
    pub(super) fn describe(&self) -> String {
        match self {
            TokenKind::Word(word) => format!("{word:?}"),
            TokenKind::Quoted(text) => format!("{text:?}"),
            TokenKind::OpenBrace => "\"{\"".to_owned(),
            TokenKind::CloseBrace => "\"}\"".to_owned(),
            TokenKind::EndOfLine => "the end of the line".to_owned(),
        }
    }
}

/// Where a token or a problem is: 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) at: Position,
}

/// The tokens of `text`, or the first problem with where it is.
pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, (Position, Problem)> {
    let mut tokens = Vec::new();
    for (index, line) in text.lines().enumerate() {
        tokenize_line(index + 1, line, &mut tokens)?;
        tokens.push(Token {
            kind: TokenKind::EndOfLine,
            at: Position {
                line: index + 1,
                column: line.chars().count() + 1,
            },
        });
    }
    Ok(tokens)
}

/// Whether `c` may be part of a bare word (anything else needs quotes).
pub(super) fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !c.is_control() && !matches!(c, '{' | '}' | '#' | '"')
}

fn tokenize_line(
    line_number: usize,
    line: &str,
    tokens: &mut Vec<Token>,
) -> Result<(), (Position, Problem)> {
    let mut chars = line.chars().enumerate().peekable();
    while let Some(&(index, c)) = chars.peek() {
        let at = Position {
            line: line_number,
            column: index + 1,
        };
        let kind = match c {
            '#' => break,
            c if c.is_whitespace() => {
                chars.next();
                continue;
            }
            '{' => {
                chars.next();
                TokenKind::OpenBrace
            }
            '}' => {
                chars.next();
                TokenKind::CloseBrace
            }
            '"' => {
                chars.next();
                TokenKind::Quoted(quoted(&mut chars, at)?)
            }
            c if c.is_control() => {
                return Err((
                    at,
                    Problem::new(format!("unexpected control character {c:?}")),
                ));
            }
            _ => {
                let mut word = String::new();
                while let Some(&(_, c)) = chars.peek() {
                    if !is_word_char(c) {
                        break;
                    }
                    word.push(c);
                    chars.next();
                }
                TokenKind::Word(word)
            }
        };
        tokens.push(Token { kind, at });
    }
    Ok(())
}

/// The rest of a quoted string whose opening quote was at `at`.
fn quoted(
    chars: &mut impl Iterator<Item = (usize, char)>,
    at: Position,
) -> Result<String, (Position, Problem)> {
    let mut text = String::new();
    let unclosed = || {
        (
            at,
            Problem::new("this quoted string is not closed on its line".to_owned()),
        )
    };
    loop {
        match chars.next() {
            None => return Err(unclosed()),
            Some((_, '"')) => return Ok(text),
            Some((index, '\\')) => match chars.next() {
                Some((_, c @ ('"' | '\\'))) => text.push(c),
                _ => {
                    return Err((
                        Position {
                            line: at.line,
                            column: index + 1,
                        },
                        Problem::new(
                            "only \\\" and \\\\ may follow a backslash in a quoted string"
                                .to_owned(),
                        ),
                    ));
                }
            },
            Some((index, c)) if c.is_control() => {
                return Err((
                    Position {
                        line: at.line,
                        column: index + 1,
                    },
                    Problem::new(format!(
                        "unexpected control character {c:?} in a quoted string"
                    )),
                ));
            }
            Some((_, c)) => text.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    fn error(text: &str) -> (usize, usize, String) {
        let (at, problem) = tokenize(text).unwrap_err();
        (at.line, at.column, problem.to_string())
    }

    #[test]
    fn words_strings_braces_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds("metric 512 # the rest\ninterface \"eth 0\"{}\n"),
            [
                Word("metric".into()),
                Word("512".into()),
                EndOfLine,
                Word("interface".into()),
                Quoted("eth 0".into()),
                OpenBrace,
                CloseBrace,
                EndOfLine,
            ]
        );
        assert_eq!(
            kinds("\"a\\\"b\\\\c\""),
            [Quoted("a\"b\\c".into()), EndOfLine]
        );
        assert_eq!(kinds("# only a comment\n\n"), [EndOfLine, EndOfLine]);
    }

    #[test]
    fn tokens_know_their_line_and_column() {
        let tokens = tokenize("a\n  bé c").unwrap();
        let at: Vec<(usize, usize)> = tokens
            .iter()
            .map(|token| (token.at.line, token.at.column))
            .collect();
        assert_eq!(at, [(1, 1), (1, 2), (2, 3), (2, 6), (2, 7)]);
    }

    #[test]
    fn an_unclosed_string_is_an_error_at_its_quote() {
        assert_eq!(
            error("user \"nobody\nx"),
            (1, 6, "this quoted string is not closed on its line".into())
        );
    }

    #[test]
    fn an_unknown_escape_is_an_error_at_its_backslash() {
        assert_eq!(
            error("socket \"a\\n\""),
            (
                1,
                10,
                "only \\\" and \\\\ may follow a backslash in a quoted string".into()
            )
        );
    }

    #[test]
    fn control_characters_are_errors() {
        assert_eq!(
            error("user a\u{7}b"),
            (1, 7, "unexpected control character '\\u{7}'".into())
        );
        assert_eq!(
            error("user \"a\u{1b}\""),
            (
                1,
                8,
                "unexpected control character '\\u{1b}' in a quoted string".into()
            )
        );
    }
}
