from fujian.cli import main

main()
