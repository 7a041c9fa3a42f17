from rfdreid.cli.main import main

main()
