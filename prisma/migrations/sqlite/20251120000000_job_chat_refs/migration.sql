-- AlterTable
ALTER TABLE "Job" ADD COLUMN "chatRefs" TEXT;
