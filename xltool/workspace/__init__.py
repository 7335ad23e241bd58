"""The finance officer's workspace: a store of campaigns and returns (store), the one service
layer the command line and the page share (service), and the local web app (app)."""
