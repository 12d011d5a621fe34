import type { Metadata } from "next";
import "./globals.css";

export const metadata: Metadata = {
  title: "Standup Board",
  description: "A small board for tracking what the team is working on today.",
};

export default function RootLayout({
  children,
}: Readonly<{
  children: React.ReactNode;
}>) {
  return (
    <html lang="en">
      <body className="min-h-screen font-sans">{children}</body>
    </html>
  );
}
