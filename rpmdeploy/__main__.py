from rpmdeploy.cli import main

main()
