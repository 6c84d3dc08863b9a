//! Resident memory of a process as the kernel accounts it in
//! /proc/PID/smaps_rollup: RSS (every page mapped, shared ones counted in
//! full by each process), PSS (each shared page divided among the processes
//! that map it: the fair figure for several processes sharing libc, or one
//! executable) and the anonymous part (heap, stacks, relocated data: what no
//! file backs, so only this process can ever own it).
//!
//! It only reads and adds; it must never judge a figure.

use std::iter::Sum;
use std::ops::Add;

/// Resident memory of one process, or of several added together, in KiB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub anonymous_kib: u64,
}

impl Memory {
    /// The memory of process `pid`, None if it has gone (or the kernel has
    /// no smaps_rollup).
    pub fn of(pid: u32) -> Option<Memory> {
        let rollup = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
        Memory::parse(&rollup)
    }

    /// Reads the three fields out of the text of a smaps_rollup file; None
    /// if one is missing or is not a number of kB.
    fn parse(rollup: &str) -> Option<Memory> {
        let field = |name: &str| {
            rollup.lines().find_map(|line| {
                let value = line.strip_prefix(name)?.strip_prefix(':')?;
                value.trim().strip_suffix("kB")?.trim().parse::<u64>().ok()
            })
        };
        Some(Memory {
            rss_kib: field("Rss")?,
            pss_kib: field("Pss")?,
            anonymous_kib: field("Anonymous")?,
        })
    }
}

impl Add for Memory {
    type Output = Memory;

    fn add(self, other: Memory) -> Memory {
        Memory {
            rss_kib: self.rss_kib + other.rss_kib,
            pss_kib: self.pss_kib + other.pss_kib,
            anonymous_kib: self.anonymous_kib + other.anonymous_kib,
        }
    }
}

impl Sum for Memory {
    fn sum<I: Iterator<Item = Memory>>(memories: I) -> Memory {
        memories.fold(Memory::default(), Add::add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLLUP: &str = "\
565175527000-7ffd6db01000 ---p 00000000 00:00 0                          [rollup]
Rss:                5968 kB
Pss:                3934 kB
Pss_Dirty:           544 kB
Pss_Anon:            544 kB
Pss_File:           3390 kB
Shared_Clean:       2136 kB
Private_Dirty:       544 kB
Anonymous:           512 kB
AnonHugePages:         0 kB
";

    #[test]
    fn reads_rss_pss_and_anonymous() {
        assert_eq!(
            Memory::parse(ROLLUP),
            Some(Memory {
                rss_kib: 5968,
                pss_kib: 3934,
                anonymous_kib: 512,
            })
        );
    }

    #[test]
    fn a_missing_field_is_no_figure_even_with_namesakes_present() {
        let without_pss: String = ROLLUP
            .lines()
            .filter(|line| !line.starts_with("Pss:"))
            .map(|line| format!("{line}\n"))
            .collect();
        assert_eq!(Memory::parse(&without_pss), None);
    }

    #[test]
    fn processes_add_up_field_by_field() {
        let one = Memory {
            rss_kib: 10,
            pss_kib: 4,
            anonymous_kib: 1,
        };
        let two = Memory {
            rss_kib: 20,
            pss_kib: 8,
            anonymous_kib: 2,
        };
        assert_eq!(
            [one, two].into_iter().sum::<Memory>(),
            Memory {
                rss_kib: 30,
                pss_kib: 12,
                anonymous_kib: 3,
            }
        );
    }

    #[test]
    fn this_process_has_resident_memory() {
        let memory = Memory::of(std::process::id()).expect("reading our own smaps_rollup");
        assert!(memory.rss_kib > 0);
        assert!(memory.pss_kib <= memory.rss_kib);
        assert!(memory.anonymous_kib <= memory.rss_kib);
    }
}
