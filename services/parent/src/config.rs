//! slaacd's configuration: the optional file (slaacd.conf(5)), the `-o`
//! options and the flags of the command line, merged into the one
//! configuration the daemon runs with.
//!
//! Precedence, highest first: the command line for one interface
//! (`-o eth0:metric=512`), the command line for every interface (`-o
//! metric=512`, `-T`, `-u`...), the file's block of the interface, the file
//! outside blocks, the built-in default. Each cap (`max-*`) is one option:
//! an interface that sets one cap keeps the others from the lower scopes. The managed interfaces are those
//! named on the command line, in the file's blocks or in `-o`.
//!
//! Every problem names where it is (file and line, or the argument) and what
//! is wrong. Nothing here needs root or changes the system; whether the user
//! and group exist is checked by the caller.

mod lexer;
mod option;
mod parser;

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use slaacd_core::{InterfaceIdentifier, Limits};

use crate::resolver::Backend;
use option::{Keyword, Options};
use parser::{ParsedFile, check_interface_name};

pub use option::MAX_CAP;

/// The file read when `-f` names none; it may be missing.
pub const DEFAULT_CONFIG_FILE: &str = "/etc/slaacd.conf";

/// Beside the lock files, in the directory the lock creates before the
/// socket is bound.
pub const DEFAULT_SOCKET: &str = "/run/slaacd/slaacd.sock";

/// The metric of the routes slaacd adds: the kernel's own for RA routes.
pub const DEFAULT_ROUTE_METRIC: u32 = 1024;

/// The resolver backend unless configured (`-r` syntax).
pub const DEFAULT_RESOLVER: &str = "auto";

/// A configuration file larger than this is refused, not read.
const MAX_FILE_SIZE: u64 = 1 << 20;

/// What is wrong with a value or a line, without where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem(String);

impl Problem {
    pub(crate) fn new(text: String) -> Problem {
        Problem(text)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Not `source`: the message already holds the reason, and `{:#}`
    /// would print it twice.
    #[error("{}: {reason}", path.display())]
    Read { path: PathBuf, reason: io::Error },
    #[error("{}:{line}:{column}: {problem}", path.display())]
    File {
        path: PathBuf,
        line: usize,
        column: usize,
        problem: Problem,
    },
    /// `argument` is the option as typed, e.g. `-o eth0:metric=0`.
    #[error("{argument}: {problem}")]
    CommandLine { argument: String, problem: Problem },
    #[error(
        "no interface to manage: name one on the command line or in an interface block of {}",
        file.display()
    )]
    NoInterfaces { file: PathBuf },
}

/// What the command line says, as typed.
#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    /// `-f`: a file that must exist; the default file may be missing.
    pub file: Option<PathBuf>,
    /// The interfaces named as arguments.
    pub interfaces: Vec<String>,
    /// The `-o [interface:]option=value` arguments, in order.
    pub options: Vec<String>,
    /// `-u`, `-g`, `-s`, `-K`, `-r`.
    pub user: Option<String>,
    pub group: Option<String>,
    pub socket: Option<String>,
    pub key_file: Option<String>,
    pub resolver: Option<String>,
    /// `-T`: no temporary addresses on any interface.
    pub no_temporary_addresses: bool,
}

/// What may differ between the managed interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InterfaceSettings {
    pub identifier: InterfaceIdentifier,
    /// Whether the interface gets RFC 8981 temporary addresses.
    pub temporary_addresses: bool,
    /// The metric of the routes slaacd adds on the interface.
    pub route_metric: u32,
    /// The engine's caps on the interface.
    pub limits: Limits,
}

impl Default for InterfaceSettings {
    /// Stable identifiers, temporary addresses, the kernel's metric, the
    /// engine's default caps.
    fn default() -> InterfaceSettings {
        InterfaceSettings {
            identifier: InterfaceIdentifier::Stable,
            temporary_addresses: true,
            route_metric: DEFAULT_ROUTE_METRIC,
            limits: Limits::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedInterface {
    pub name: String,
    pub settings: InterfaceSettings,
}

/// The configuration the daemon runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Configuration {
    /// The file read (or the default one, which may be missing).
    pub file: PathBuf,
    pub user: String,
    /// The control socket's group, a name or a number.
    pub group: String,
    pub socket: PathBuf,
    pub key_file: PathBuf,
    pub resolver: Backend,
    /// The resolver as configured, in `-r` syntax (`auto`, `file=PATH`...).
    pub resolver_option: String,
    /// The caps set for the whole daemon (command line, file outside
    /// blocks, default): those of an interface that sets none of its own.
    pub limits: Limits,
    /// In the order they were named: command line, file, `-o`.
    pub interfaces: Vec<ManagedInterface>,
}

impl Configuration {
    /// Reads the file and merges it with the command line.
    pub fn load(command_line: &CommandLine) -> Result<Configuration, ConfigError> {
        Configuration::load_with_default(command_line, Path::new(DEFAULT_CONFIG_FILE))
    }

    /// As [`Configuration::load`], with `default_file` read when the command
    /// line names none.
    fn load_with_default(
        command_line: &CommandLine,
        default_file: &Path,
    ) -> Result<Configuration, ConfigError> {
        let (file, parsed) = match &command_line.file {
            Some(path) => (path.clone(), read_file(path)?),
            None => {
                let path = default_file.to_owned();
                match read_file(&path) {
                    Err(ConfigError::Read { reason, .. })
                        if reason.kind() == io::ErrorKind::NotFound =>
                    {
                        (path, ParsedFile::default())
                    }
                    other => (path, other?),
                }
            }
        };
        let overrides = Overrides::from_command_line(command_line)?;
        merge(file, &parsed, &overrides, &command_line.interfaces)
    }

    /// The settings of the interface `name`, if it is managed.
    pub fn settings(&self, name: &str) -> Option<InterfaceSettings> {
        self.interfaces
            .iter()
            .find(|interface| interface.name == name)
            .map(|interface| interface.settings)
    }

    pub fn interface_names(&self) -> Vec<String> {
        self.interfaces
            .iter()
            .map(|interface| interface.name.clone())
            .collect()
    }

    /// The configuration in slaacd.conf syntax, every option spelt out: what
    /// `slaacd -n -v` prints. Read back, it gives the same configuration.
    pub fn render(&self) -> String {
        let mut text = String::new();
        let mut line = |keyword: Keyword, value: &str| {
            let _ = writeln!(text, "{} {}", keyword.name(), quote(value));
        };
        line(Keyword::User, &self.user);
        line(Keyword::Group, &self.group);
        line(Keyword::Socket, &self.socket.to_string_lossy());
        line(Keyword::KeyFile, &self.key_file.to_string_lossy());
        line(Keyword::Resolver, &self.resolver_option);
        for (keyword, value) in cap_options(&self.limits) {
            line(keyword, &value.to_string());
        }
        for interface in &self.interfaces {
            let settings = interface.settings;
            let _ = writeln!(text, "\ninterface {} {{", quote(&interface.name));
            for (keyword, value) in [
                (
                    Keyword::Identifier,
                    option::identifier_word(settings.identifier).to_owned(),
                ),
                (
                    Keyword::TemporaryAddresses,
                    option::switch_word(settings.temporary_addresses).to_owned(),
                ),
                (Keyword::Metric, settings.route_metric.to_string()),
            ]
            .into_iter()
            .chain(
                cap_options(&settings.limits).map(|(keyword, value)| (keyword, value.to_string())),
            ) {
                let _ = writeln!(text, "\t{} {}", keyword.name(), quote(&value));
            }
            text.push_str("}\n");
        }
        text
    }
}

/// Each cap with the option that sets it, in the manual's order.
fn cap_options(limits: &Limits) -> [(Keyword, usize); 6] {
    [
        (Keyword::MaxRouters, limits.routers),
        (Keyword::MaxPrefixes, limits.prefixes),
        (Keyword::MaxAddresses, limits.addresses),
        (Keyword::MaxRoutes, limits.routes),
        (Keyword::MaxDnsServers, limits.dns_servers),
        (Keyword::MaxSearchDomains, limits.search_domains),
    ]
}

/// `value` as a word when it reads back as one, else as a quoted string.
fn quote(value: &str) -> String {
    let plain = !value.is_empty() && value.chars().all(lexer::is_word_char);
    if plain {
        value.to_owned()
    } else {
        format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

fn read_file(path: &Path) -> Result<ParsedFile, ConfigError> {
    let read_error = |reason| ConfigError::Read {
        path: path.to_owned(),
        reason,
    };
    let size = std::fs::metadata(path).map_err(read_error)?.len();
    if size > MAX_FILE_SIZE {
        return Err(read_error(io::Error::other(format!(
            "{size} bytes is too large for a configuration file"
        ))));
    }
    let bytes = std::fs::read(path).map_err(read_error)?;
    let at_problem = |line, column, problem| ConfigError::File {
        path: path.to_owned(),
        line,
        column,
        problem,
    };
    let text = std::str::from_utf8(&bytes).map_err(|error| {
        let valid = std::str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default();
        let line = valid.matches('\n').count() + 1;
        let column = valid
            .rsplit('\n')
            .next()
            .unwrap_or_default()
            .chars()
            .count()
            + 1;
        at_problem(line, column, Problem::new("not UTF-8 text".to_owned()))
    })?;
    parser::parse(text).map_err(|(at, problem)| at_problem(at.line, at.column, problem))
}

/// What the command line sets, for every interface and per interface.
#[derive(Debug, Default)]
struct Overrides {
    global: Options,
    /// In the order first named.
    interfaces: Vec<(String, Options)>,
}

impl Overrides {
    fn from_command_line(command_line: &CommandLine) -> Result<Overrides, ConfigError> {
        let mut overrides = Overrides::default();
        // Which argument set each option first, per scope (None: every interface).
        let mut set_by: Vec<(Option<String>, Keyword, String)> = Vec::new();
        let mut apply = |overrides: &mut Overrides,
                         interface: Option<&str>,
                         keyword: Keyword,
                         value: &str,
                         argument: String| {
            let options = overrides.scope(interface);
            let first = || {
                set_by
                    .iter()
                    .find(|(scope, set, _)| scope.as_deref() == interface && *set == keyword)
                    .map_or_else(String::new, |(_, _, by)| format!("by {by}"))
            };
            options
                .set(keyword, value, first)
                .map_err(|problem| ConfigError::CommandLine {
                    argument: argument.clone(),
                    problem,
                })?;
            set_by.push((interface.map(str::to_owned), keyword, argument));
            Ok(())
        };
        let flags = [
            ("-u", Keyword::User, &command_line.user),
            ("-g", Keyword::Group, &command_line.group),
            ("-s", Keyword::Socket, &command_line.socket),
            ("-K", Keyword::KeyFile, &command_line.key_file),
            ("-r", Keyword::Resolver, &command_line.resolver),
        ];
        for (flag, keyword, value) in flags {
            if let Some(value) = value {
                apply(
                    &mut overrides,
                    None,
                    keyword,
                    value,
                    format!("{flag} {value}"),
                )?;
            }
        }
        if command_line.no_temporary_addresses {
            apply(
                &mut overrides,
                None,
                Keyword::TemporaryAddresses,
                "no",
                "-T".to_owned(),
            )?;
        }
        for argument in &command_line.options {
            let typed = format!("-o {argument}");
            let (interface, keyword, value) =
                parse_option_argument(argument).map_err(|problem| ConfigError::CommandLine {
                    argument: typed.clone(),
                    problem,
                })?;
            apply(&mut overrides, interface, keyword, value, typed)?;
        }
        Ok(overrides)
    }

    /// The options for every interface (`None`) or for one, made on first use.
    fn scope(&mut self, interface: Option<&str>) -> &mut Options {
        let Some(name) = interface else {
            return &mut self.global;
        };
        let index = match self.interfaces.iter().position(|(known, _)| known == name) {
            Some(index) => index,
            None => {
                self.interfaces.push((name.to_owned(), Options::default()));
                self.interfaces.len() - 1
            }
        };
        &mut self.interfaces[index].1
    }

    fn interface(&self, name: &str) -> Option<&Options> {
        self.interfaces
            .iter()
            .find(|(known, _)| known == name)
            .map(|(_, options)| options)
    }
}

/// Splits `[interface:]option=value`.
fn parse_option_argument(argument: &str) -> Result<(Option<&str>, Keyword, &str), Problem> {
    let Some((target, value)) = argument.split_once('=') else {
        return Err(Problem::new(
            "expected [interface:]option=value, e.g. eth0:metric=512".to_owned(),
        ));
    };
    let (interface, name) = match target.split_once(':') {
        Some((interface, name)) => {
            check_interface_name(interface)?;
            (Some(interface), name)
        }
        None => (None, target),
    };
    let keyword = Keyword::find(name, interface.is_some())?;
    if value.is_empty() {
        return Err(keyword.missing_value());
    }
    Ok((interface, keyword, value))
}

/// The value of the first of `scopes` (highest precedence first) that sets
/// the option `get` reads.
fn first_set<T>(scopes: &[&Options], get: impl Fn(&Options) -> Option<T>) -> Option<T> {
    scopes.iter().find_map(|options| get(options))
}

/// Each cap from the first of `scopes` that sets it, else its default.
fn caps(scopes: &[&Options]) -> Limits {
    let defaults = Limits::default();
    let cap = |get: fn(&Options) -> Option<u32>, default: usize| {
        first_set(scopes, get).map_or(default, |value| value as usize)
    };
    Limits {
        routers: cap(|o| o.max_routers, defaults.routers),
        prefixes: cap(|o| o.max_prefixes, defaults.prefixes),
        addresses: cap(|o| o.max_addresses, defaults.addresses),
        routes: cap(|o| o.max_routes, defaults.routes),
        dns_servers: cap(|o| o.max_dns_servers, defaults.dns_servers),
        search_domains: cap(|o| o.max_search_domains, defaults.search_domains),
    }
}

/// Applies the precedence of the module notes.
fn merge(
    file: PathBuf,
    parsed: &ParsedFile,
    overrides: &Overrides,
    named: &[String],
) -> Result<Configuration, ConfigError> {
    for name in named {
        check_interface_name(name).map_err(|problem| ConfigError::CommandLine {
            argument: name.clone(),
            problem,
        })?;
    }
    let mut names: Vec<&str> = Vec::new();
    let candidates = named
        .iter()
        .map(String::as_str)
        .chain(parsed.interfaces.iter().map(|block| block.name.as_str()))
        .chain(overrides.interfaces.iter().map(|(name, _)| name.as_str()));
    for name in candidates {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(ConfigError::NoInterfaces { file });
    }

    let daemon = [&overrides.global, &parsed.global];
    let limits = caps(&daemon);
    let (resolver_option, resolver) = match first_set(&daemon, |o| o.resolver.clone()) {
        Some(choice) => (choice.option, choice.backend),
        None => (DEFAULT_RESOLVER.to_owned(), Backend::detect()),
    };

    let interfaces = names
        .into_iter()
        .map(|name| {
            let block = parsed
                .interfaces
                .iter()
                .find(|block| block.name == name)
                .map(|block| &block.options);
            let scopes: Vec<&Options> = [
                overrides.interface(name),
                Some(&overrides.global),
                block,
                Some(&parsed.global),
            ]
            .into_iter()
            .flatten()
            .collect();
            let defaults = InterfaceSettings::default();
            ManagedInterface {
                name: name.to_owned(),
                settings: InterfaceSettings {
                    identifier: first_set(&scopes, |o| o.identifier).unwrap_or(defaults.identifier),
                    temporary_addresses: first_set(&scopes, |o| o.temporary_addresses)
                        .unwrap_or(defaults.temporary_addresses),
                    route_metric: first_set(&scopes, |o| o.metric).unwrap_or(defaults.route_metric),
                    limits: caps(&scopes),
                },
            }
        })
        .collect();

    Ok(Configuration {
        file,
        user: first_set(&daemon, |o| o.user.clone())
            .unwrap_or_else(|| slaacd_sandbox::DEFAULT_USER.to_owned()),
        group: first_set(&daemon, |o| o.group.clone())
            .unwrap_or_else(|| crate::control_socket::DEFAULT_GROUP.to_owned()),
        socket: first_set(&daemon, |o| o.socket.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET)),
        key_file: first_set(&daemon, |o| o.key_file.clone())
            .unwrap_or_else(|| PathBuf::from(crate::key::DEFAULT_KEY_PATH)),
        resolver,
        resolver_option,
        limits,
        interfaces,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> ParsedFile {
        parser::parse(text).unwrap()
    }

    fn command_line(interfaces: &[&str], options: &[&str]) -> CommandLine {
        CommandLine {
            interfaces: interfaces.iter().map(|s| s.to_string()).collect(),
            options: options.iter().map(|s| s.to_string()).collect(),
            ..CommandLine::default()
        }
    }

    fn merged(text: &str, command_line: &CommandLine) -> Result<Configuration, String> {
        let overrides = Overrides::from_command_line(command_line).map_err(|e| e.to_string())?;
        merge(
            PathBuf::from("slaacd.conf"),
            &parsed(text),
            &overrides,
            &command_line.interfaces,
        )
        .map_err(|e| e.to_string())
    }

    fn settings(config: &Configuration, name: &str) -> InterfaceSettings {
        config.settings(name).unwrap()
    }

    #[test]
    fn without_a_file_everything_has_its_default() {
        let config = merged("", &command_line(&["eth0"], &[])).unwrap();
        assert_eq!(config.user, "_slaacd");
        assert_eq!(config.group, "0");
        assert_eq!(config.socket, PathBuf::from("/run/slaacd/slaacd.sock"));
        assert_eq!(config.key_file, PathBuf::from("/var/lib/slaacd/soii.key"));
        assert_eq!(config.resolver_option, "auto");
        assert_eq!(config.limits, Limits::default());
        assert_eq!(
            config.interfaces,
            [ManagedInterface {
                name: "eth0".to_owned(),
                settings: InterfaceSettings {
                    identifier: InterfaceIdentifier::Stable,
                    temporary_addresses: true,
                    route_metric: 1024,
                    limits: Limits::default(),
                },
            }]
        );
    }

    /// A file of the test's own, removed when dropped.
    struct TestFile(PathBuf);

    impl TestFile {
        fn new(name: &str, bytes: &[u8]) -> TestFile {
            let path = std::env::temp_dir()
                .join(format!("slaacd-config-{}-{name}.conf", std::process::id()));
            std::fs::write(&path, bytes).unwrap();
            TestFile(path)
        }
    }

    impl Drop for TestFile {
        fn drop(&mut self) {
            let _ = std::fs::remove_file(&self.0);
        }
    }

    fn missing_path() -> PathBuf {
        std::env::temp_dir().join(format!("slaacd-config-{}-missing.conf", std::process::id()))
    }

    #[test]
    fn a_missing_default_file_is_no_file() {
        let config =
            Configuration::load_with_default(&command_line(&["eth0"], &[]), &missing_path())
                .unwrap();
        assert_eq!(config.file, missing_path());
        assert_eq!(config.interface_names(), ["eth0"]);
    }

    #[test]
    fn the_default_file_is_read_when_present() {
        let file = TestFile::new("default", b"interface eth1 { metric 9 }\n");
        let config =
            Configuration::load_with_default(&command_line(&["eth0"], &[]), &file.0).unwrap();
        assert_eq!(config.interface_names(), ["eth0", "eth1"]);
        assert_eq!(settings(&config, "eth1").route_metric, 9);
    }

    #[test]
    fn a_missing_named_file_is_an_error() {
        let command_line = CommandLine {
            file: Some(missing_path()),
            ..command_line(&["eth0"], &[])
        };
        let error = Configuration::load_with_default(&command_line, &missing_path())
            .unwrap_err()
            .to_string();
        assert_eq!(
            error,
            format!(
                "{}: No such file or directory (os error 2)",
                missing_path().display()
            )
        );
    }

    #[test]
    fn file_problems_name_the_file_line_and_column() {
        let file = TestFile::new("bad", b"metric 5\n\n  metrik 7\n");
        let command_line = CommandLine {
            file: Some(file.0.clone()),
            ..command_line(&["eth0"], &[])
        };
        let error = Configuration::load(&command_line).unwrap_err().to_string();
        assert!(
            error.starts_with(&format!(
                "{}:3:3: unknown option \"metrik\"; expected one of user, ",
                file.0.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_utf8_names_the_first_bad_byte() {
        let file = TestFile::new("latin1", b"metric 5\nuser caf\xe9\n");
        let command_line = CommandLine {
            file: Some(file.0.clone()),
            ..command_line(&["eth0"], &[])
        };
        assert_eq!(
            Configuration::load(&command_line).unwrap_err().to_string(),
            format!("{}:2:9: not UTF-8 text", file.0.display())
        );
    }

    #[test]
    fn a_huge_file_is_refused_unread() {
        let file = TestFile::new("huge", &vec![b'#'; MAX_FILE_SIZE as usize + 1]);
        let command_line = CommandLine {
            file: Some(file.0.clone()),
            ..command_line(&["eth0"], &[])
        };
        assert_eq!(
            Configuration::load(&command_line).unwrap_err().to_string(),
            format!(
                "{}: 1048577 bytes is too large for a configuration file",
                file.0.display()
            )
        );
    }

    #[test]
    fn the_default_socket_lives_in_the_directory_the_lock_creates() {
        assert_eq!(
            Path::new(DEFAULT_SOCKET).parent(),
            Some(Path::new(crate::lock::DEFAULT_LOCK_DIR))
        );
    }

    #[test]
    fn interfaces_come_from_the_command_line_the_file_and_o() {
        let config = merged(
            "interface eth1 {}\ninterface eth0 {}\n",
            &command_line(&["eth0", "eth2"], &["eth3:metric=5", "eth1:metric=6"]),
        )
        .unwrap();
        assert_eq!(config.interface_names(), ["eth0", "eth2", "eth1", "eth3"]);
        assert_eq!(config.settings("eth4"), None);
    }

    #[test]
    fn no_interface_at_all_is_an_error() {
        assert_eq!(
            merged("metric 5\n", &command_line(&[], &[])).unwrap_err(),
            "no interface to manage: name one on the command line or in an interface block of \
             slaacd.conf"
        );
    }

    #[test]
    fn the_command_line_beats_the_file_and_an_interface_beats_every_interface() {
        let file = "metric 100\n\
                    temporary-addresses no\n\
                    identifier eui64\n\
                    interface eth0 { metric 200 }\n\
                    interface eth1 { metric 300\n identifier stable }\n";
        let config = merged(file, &command_line(&["eth2"], &[])).unwrap();
        assert_eq!(
            settings(&config, "eth0"),
            InterfaceSettings {
                identifier: InterfaceIdentifier::Eui64,
                temporary_addresses: false,
                route_metric: 200,
                limits: Limits::default(),
            }
        );
        assert_eq!(settings(&config, "eth1").route_metric, 300);
        assert_eq!(
            settings(&config, "eth1").identifier,
            InterfaceIdentifier::Stable
        );
        assert_eq!(settings(&config, "eth2").route_metric, 100);

        let config = merged(
            file,
            &command_line(&["eth2"], &["metric=7", "eth1:metric=8"]),
        )
        .unwrap();
        assert_eq!(settings(&config, "eth0").route_metric, 7);
        assert_eq!(settings(&config, "eth1").route_metric, 8);
        assert_eq!(settings(&config, "eth2").route_metric, 7);
    }

    #[test]
    fn flags_override_the_file() {
        let file = "user nobody\ngroup adm\nsocket /a\nkey-file /b\nresolver file=/c\n\
                    interface eth0 { temporary-addresses yes }\n";
        let config = merged(file, &command_line(&[], &[])).unwrap();
        assert_eq!(
            (config.user.as_str(), config.group.as_str()),
            ("nobody", "adm")
        );
        assert_eq!(config.socket, PathBuf::from("/a"));
        assert_eq!(config.key_file, PathBuf::from("/b"));
        assert_eq!(config.resolver, Backend::File(PathBuf::from("/c")));
        assert!(settings(&config, "eth0").temporary_addresses);

        let flags = CommandLine {
            user: Some("daemon".to_owned()),
            group: Some("7".to_owned()),
            socket: Some("/x".to_owned()),
            key_file: Some("/y".to_owned()),
            resolver: Some("file=/z".to_owned()),
            no_temporary_addresses: true,
            ..command_line(&[], &[])
        };
        let config = merged(file, &flags).unwrap();
        assert_eq!(
            (config.user.as_str(), config.group.as_str()),
            ("daemon", "7")
        );
        assert_eq!(config.socket, PathBuf::from("/x"));
        assert_eq!(config.key_file, PathBuf::from("/y"));
        assert_eq!(config.resolver, Backend::File(PathBuf::from("/z")));
        assert_eq!(config.resolver_option, "file=/z");
        // -T turns them off on every interface, whatever the file says.
        assert!(!settings(&config, "eth0").temporary_addresses);
    }

    #[test]
    fn caps_come_from_the_command_line_or_the_file() {
        let config = merged(
            "max-routers 2\nmax-routes 3\nmax-dns-servers 0\n",
            &command_line(&["eth0"], &["max-routes=9", "max-search-domains=1"]),
        )
        .unwrap();
        assert_eq!(
            config.limits,
            Limits {
                routers: 2,
                routes: 9,
                dns_servers: 0,
                search_domains: 1,
                ..Limits::default()
            }
        );
        // An interface that sets none of its own has the daemon's.
        assert_eq!(settings(&config, "eth0").limits, config.limits);
    }

    #[test]
    fn caps_per_interface_follow_the_precedence_of_every_option() {
        let file = "max-routers 2
max-routes 3
                    interface eth0 { max-routers 4
max-prefixes 5
max-routes 6 }
                    interface eth1 { max-prefixes 7
max-dns-servers 0 }
";
        let config = merged(
            file,
            &command_line(
                &["eth2"],
                &[
                    "max-prefixes=8",
                    "eth1:max-routers=9",
                    "eth1:max-prefixes=10",
                ],
            ),
        )
        .unwrap();
        // The daemon's: the command line, then the file outside blocks.
        assert_eq!(
            config.limits,
            Limits {
                routers: 2,
                prefixes: 8,
                routes: 3,
                ..Limits::default()
            }
        );
        // The file's block beats the file outside blocks; the command line
        // for every interface beats the block.
        assert_eq!(
            settings(&config, "eth0").limits,
            Limits {
                routers: 4,
                prefixes: 8,
                routes: 6,
                ..Limits::default()
            }
        );
        // The command line for the interface beats everything.
        assert_eq!(
            settings(&config, "eth1").limits,
            Limits {
                routers: 9,
                prefixes: 10,
                routes: 3,
                dns_servers: 0,
                ..Limits::default()
            }
        );
        assert_eq!(settings(&config, "eth2").limits, config.limits);
    }

    #[test]
    fn a_cap_of_one_interface_is_checked_as_the_daemon_s() {
        assert_eq!(
            merged("", &command_line(&["eth0"], &["eth0:max-routers=0"])).unwrap_err(),
            "-o eth0:max-routers=0: max-routers must be a number from 1 to 1024, not \"0\""
        );
        assert_eq!(
            merged(
                "",
                &command_line(&["eth0"], &["eth0:max-routes=2", "eth0:max-routes=3"])
            )
            .unwrap_err(),
            "-o eth0:max-routes=3: max-routes is set twice (first by -o eth0:max-routes=2)"
        );
    }

    #[test]
    fn command_line_problems_name_the_argument() {
        let error = |interfaces: &[&str], options: &[&str]| {
            merged("", &command_line(interfaces, options)).unwrap_err()
        };
        assert_eq!(
            error(&["eth0"], &["metric"]),
            "-o metric: expected [interface:]option=value, e.g. eth0:metric=512"
        );
        assert_eq!(
            error(&["eth0"], &["eth0:metrik=5"]),
            "-o eth0:metrik=5: unknown option \"metrik\"; expected one of identifier, \
             temporary-addresses, metric, max-routers, max-prefixes, max-addresses, max-routes, \
             max-dns-servers, max-search-domains"
        );
        assert_eq!(
            error(&["eth0"], &["eth0:user=x"]),
            "-o eth0:user=x: user applies to the whole daemon, not to one interface; \
             set it outside interface blocks"
        );
        assert_eq!(
            error(&["eth0"], &["eth/0:metric=5"]),
            "-o eth/0:metric=5: invalid interface name \"eth/0\": it may not hold '/', ':', \
             blanks or control characters"
        );
        assert_eq!(
            error(&["eth0"], &["metric="]),
            "-o metric=: metric needs a value: a number from 1 to 4294967295"
        );
        assert_eq!(
            error(&["eth0"], &["eth0:metric=0"]),
            "-o eth0:metric=0: metric must be a number from 1 to 4294967295, not \"0\""
        );
        assert_eq!(
            error(&["eth0"], &["eth0:metric=5", "eth0:metric=6"]),
            "-o eth0:metric=6: metric is set twice (first by -o eth0:metric=5)"
        );
        // Every interface and one interface are different scopes.
        assert!(merged("", &command_line(&["eth0"], &["metric=5", "eth0:metric=6"])).is_ok());
        assert_eq!(
            error(&["eth 0"], &[]),
            "eth 0: invalid interface name \"eth 0\": it may not hold '/', ':', blanks or \
             control characters"
        );
        let flags = CommandLine {
            no_temporary_addresses: true,
            ..command_line(&["eth0"], &["temporary-addresses=yes"])
        };
        assert_eq!(
            merged("", &flags).unwrap_err(),
            "-o temporary-addresses=yes: temporary-addresses is set twice (first by -T)"
        );
        let flags = CommandLine {
            socket: Some("relative.sock".to_owned()),
            ..command_line(&["eth0"], &[])
        };
        assert_eq!(
            merged("", &flags).unwrap_err(),
            "-s relative.sock: socket must be an absolute path, not \"relative.sock\""
        );
    }

    #[test]
    fn the_rendered_configuration_reads_back_the_same() {
        let config = merged(
            "user \"odd{user}\"\nresolver \"file=/run/a#b\"\nmax-prefixes 3\n\
             interface eth0 { identifier eui64\nmetric 512\nmax-routers 2 }\n\
             interface interface { temporary-addresses no }\n",
            &command_line(&["wlan0"], &[]),
        )
        .unwrap();
        let text = config.render();
        assert!(text.contains("user \"odd{user}\"\n"), "{text}");
        assert!(text.contains("resolver \"file=/run/a#b\"\n"), "{text}");
        assert!(
            text.contains("\nmax-routers 16\nmax-prefixes 3\n"),
            "{text}"
        );
        assert!(
            text.contains(
                "interface eth0 {\n\tidentifier eui64\n\ttemporary-addresses yes\n\tmetric 512\n\
                 \tmax-routers 2\n\tmax-prefixes 3\n\tmax-addresses 16\n\tmax-routes 64\n\
                 \tmax-dns-servers 8\n\tmax-search-domains 8\n}\n"
            ),
            "{text}"
        );
        assert!(text.contains("interface interface {\n"), "{text}");
        let again = merged(&text, &command_line(&[], &[])).unwrap();
        assert_eq!(again, config);
    }
}
