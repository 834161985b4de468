from tokendash.cli import main

main()
