"""The app's screens: overview, incidents, incident detail, events, SQL console, help, dialogs."""
