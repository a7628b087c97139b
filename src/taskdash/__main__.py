from taskdash.cli import main

main()
