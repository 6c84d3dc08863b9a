complete -c slaacd -s s -d 'The control socket slaacctl talks to' -r -F
complete -c slaacd -s g -d 'The control socket\'s group (name or number); root\'s by default' -r
complete -c slaacd -s K -d 'The file holding the secret key for stable addresses (RFC 7217); created with a random key if it does not exist' -r -F
complete -c slaacd -s r -d 'Where DNS servers and search domains go: auto (resolvconf when installed, else the file), resolvconf[=PATH], or file[=PATH] (default file: /run/slaacd/resolv.conf)' -r
complete -c slaacd -s u -d 'The unprivileged user the frontend and the engine run as' -r
complete -c slaacd -l completions -d 'Print the completion script for a shell and exit' -r -f -a "bash\t''
elvish\t''
fish\t''
powershell\t''
zsh\t''"
complete -c slaacd -s d -d 'Stay in the foreground and log to stderr'
complete -c slaacd -s v -d 'More detail in the log; repeat for more'
complete -c slaacd -s T -d 'No temporary addresses (RFC 8981): by default the kernel makes them from the stable addresses and prefers them for outgoing connections'
complete -c slaacd -s h -l help -d 'Print help (see more with \'--help\')'
complete -c slaacd -s V -l version -d 'Print version'
