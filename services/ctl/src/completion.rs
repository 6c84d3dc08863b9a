//! Shell completion scripts for slaacctl, made by clap_complete from the
//! options and from the command grammar (`parser::grammar`), so a completed
//! line is always one slaacctl accepts. `slaacctl --completions SHELL` prints
//! one; the install step puts it where the shell looks.
//!
//! It must never contact the daemon or list anything the parser would refuse.

use clap::{Arg, ArgAction, Command, ValueHint};
use clap_complete::Shell;

use crate::parser::{self, Keyword, Then};

/// The completion script for `shell`, given slaacctl's option parser.
pub fn script(shell: Shell, options: Command) -> Vec<u8> {
    let mut command = options
        // The words are completed as the keyword tree below instead.
        .mut_arg("words", |words| words.hide(true))
        .disable_help_subcommand(true)
        .subcommands(parser::grammar().into_iter().map(keyword_command));
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "slaacctl", &mut script);
    script
}

/// A keyword as a clap subcommand, with what may follow it.
fn keyword_command(keyword: Keyword) -> Command {
    // slaacctl has no `help` keyword and no options after the command.
    let command = Command::new(keyword.word)
        .disable_help_subcommand(true)
        .disable_help_flag(true);
    match keyword.then {
        Then::Keywords(next) => command.subcommands(next.into_iter().map(keyword_command)),
        Then::Interface { optional } => command.arg(
            Arg::new("interface")
                .value_name("interface")
                .required(!optional)
                .action(ArgAction::Set)
                .value_hint(ValueHint::Other),
        ),
        Then::End => command,
    }
}
