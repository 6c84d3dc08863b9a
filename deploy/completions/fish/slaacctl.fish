# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_slaacctl_global_optspecs
    string join \n s= json completions= h/help
end

function __fish_slaacctl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_slaacctl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_slaacctl_using_subcommand
    set -l cmd (__fish_slaacctl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c slaacctl -n "__fish_slaacctl_needs_command" -s s -d 'The daemon\'s control socket' -r -F
complete -c slaacctl -n "__fish_slaacctl_needs_command" -l completions -d 'Print the completion script for a shell and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c slaacctl -n "__fish_slaacctl_needs_command" -l json -d 'Print `show interface` as JSON, and `monitor` as one JSON object per line'
complete -c slaacctl -n "__fish_slaacctl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c slaacctl -n "__fish_slaacctl_needs_command" -a "log"
complete -c slaacctl -n "__fish_slaacctl_needs_command" -a "monitor"
complete -c slaacctl -n "__fish_slaacctl_needs_command" -a "send"
complete -c slaacctl -n "__fish_slaacctl_needs_command" -a "show"
complete -c slaacctl -n "__fish_slaacctl_using_subcommand log; and not __fish_seen_subcommand_from verbose brief" -f -a "verbose"
complete -c slaacctl -n "__fish_slaacctl_using_subcommand log; and not __fish_seen_subcommand_from verbose brief" -f -a "brief"
complete -c slaacctl -n "__fish_slaacctl_using_subcommand send; and not __fish_seen_subcommand_from solicitation" -f -a "solicitation"
complete -c slaacctl -n "__fish_slaacctl_using_subcommand show; and not __fish_seen_subcommand_from interface" -f -a "interface"
