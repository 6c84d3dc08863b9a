//! The description of the machine and the software a report's figures come
//! from: CPU, kernel, distribution, and the versions of the peers measured.
//!
//! It only reads files and runs `--version`; a fact it cannot learn is
//! reported as unknown, never guessed.

use std::fmt::Write as _;
use std::process::Command;

/// The load averages (1, 5 and 15 minutes) as /proc/loadavg gives them:
/// other work on the machine delays every process measured.
pub fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// Markdown lines describing this machine and the programs measured;
/// `load_at_start` is [`load_average`] when the measuring began.
pub fn describe(load_at_start: &str) -> String {
    let mut out = String::new();
    let cpus = std::thread::available_parallelism().map_or(0, usize::from);
    let _ = writeln!(out, "- CPU: {} ({cpus} CPUs)", cpu_model());
    let _ = writeln!(
        out,
        "- Kernel: Linux {}",
        first_line_of_file("/proc/sys/kernel/osrelease")
    );
    let _ = writeln!(out, "- System: {}", distribution());
    let _ = writeln!(
        out,
        "- Load average (1 5 15 min): {load_at_start} at the start, {} at the end",
        load_average()
    );
    let _ = writeln!(
        out,
        "- slaacd: {} ({} build)",
        env!("CARGO_PKG_VERSION"),
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    let _ = writeln!(out, "- radvd: {}", version_of("radvd", "--version"));
    let _ = writeln!(out, "- dhcpcd: {}", version_of("dhcpcd", "--version"));
    let _ = writeln!(out, "- iproute2: {}", version_of("ip", "-V"));
    out
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

fn first_line_of_file(path: &str) -> String {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|text| text.lines().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

fn distribution() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_string())
        })
        .unwrap_or_else(|| "unknown".to_string())
}

/// The first non-empty line `program flag` prints, on stdout or stderr.
fn version_of(program: &str, flag: &str) -> String {
    let Ok(output) = Command::new(program).arg(flag).output() else {
        return "not installed".to_string();
    };
    [output.stdout, output.stderr]
        .iter()
        .flat_map(|bytes| {
            String::from_utf8_lossy(bytes)
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .next()
        .unwrap_or_else(|| "unknown".to_string())
}
