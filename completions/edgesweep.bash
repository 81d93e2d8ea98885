# bash completion for edgesweep. Job keys for --set come from `edgesweep keys`, the program's
# own key table, so they never go stale.
_edgesweep_keys() {
  "$1" keys 2>/dev/null | awk '/^\[/ { s = substr($0, 2, length($0) - 2) }
                               /^[a-z_0-9]+ =/ { print s "." $1 }'
}

_edgesweep() {
  local cur prev cmd exe
  cur=${COMP_WORDS[COMP_CWORD]}
  prev=${COMP_WORDS[COMP_CWORD - 1]}
  exe=${COMP_WORDS[0]}
  cmd=${COMP_WORDS[1]}
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "run check verify info mft critical keys help --help --version" -- "$cur"))
    return
  fi
  case "$prev" in
    --set)
      COMPREPLY=($(compgen -W "$(_edgesweep_keys "$exe")" -S = -- "$cur"))
      compopt -o nospace 2>/dev/null
      return ;;
    -o | --output)
      COMPREPLY=($(compgen -f -- "$cur"))
      return ;;
    --activation)
      COMPREPLY=($(compgen -W "linear relu tanh erf gelu silu sin" -- "$cur"))
      return ;;
    --progress)
      COMPREPLY=($(compgen -W "auto bar log none" -- "$cur"))
      return ;;
  esac
  local opts
  case "$cmd" in
    run) opts="-o --output --resume --force --set --quiet --progress --help" ;;
    check) opts="--set --help" ;;
    verify) opts="--recompute --seed --help" ;;
    info) opts="--help" ;;
    mft) opts="--activation --sigma-w2 --sigma-b2 --leak --json --help" ;;
    critical) opts="--activation --sigma-b2 --json --help" ;;
    help) COMPREPLY=($(compgen -W "run check verify info mft critical keys" -- "$cur")); return ;;
    *) opts="--help" ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
  else
    case "$cmd" in
      run | check) COMPREPLY=($(compgen -f -X '!*.ini' -- "$cur") $(compgen -d -- "$cur")) ;;
      verify | info) COMPREPLY=($(compgen -f -X '!*.h5*' -- "$cur") $(compgen -d -- "$cur")) ;;
    esac
  fi
}
complete -F _edgesweep edgesweep
