from hardneg.cli.main import main

main()
