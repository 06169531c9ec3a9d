from convexproof.cli import main

main()
